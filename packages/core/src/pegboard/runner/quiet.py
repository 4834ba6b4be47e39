"""Quiet by default: what a run prints is pegboard's own lines and the errors that matter.

Known third-party noise is turned down by logger or by warning category, never by
silencing everything: Lightning's start-up info lines (the "Tip" advertisements, the
accelerator summary), Optuna's database-migration lines, ONNX Script's export lines, and
one deprecation warning that torch raises inside Lightning. ``PEGBOARD_VERBOSE=1`` keeps
them all. When the output is not a terminal (a log file, a CI job), progress bars
redraw into the file line after line, so the run prints one plain line per epoch instead.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from typing import Any

import pytorch_lightning as pl

from pegboard._compat import LEAFSPEC_WARNING
from pegboard.runner.callbacks import AfterEachEpoch

#: Environment variable: set to 1 to keep every third-party info line.
VERBOSE_ENV = "PEGBOARD_VERBOSE"
#: Loggers whose lines are noise in a pegboard run, and the level they are turned down to.
NOISY_LOGGERS = {
    "pytorch_lightning.utilities.rank_zero": logging.WARNING,
    "lightning.pytorch.utilities.rank_zero": logging.WARNING,
    "lightning_fabric.utilities.rank_zero": logging.WARNING,
    "lightning.fabric.utilities.rank_zero": logging.WARNING,
    "alembic": logging.WARNING,  # Optuna's database migrations
    "onnxscript": logging.WARNING,  # ONNX export passes
    "onnx_ir": logging.WARNING,
    # torch's ONNX exporter warns once per torchvision operator when torchvision is absent.
    "torch.onnx._internal.exporter._registration": logging.ERROR,
}


def quiet_third_parties() -> None:
    """Turn the known noisy loggers down to warnings (unless ``PEGBOARD_VERBOSE=1``)."""
    if os.environ.get(VERBOSE_ENV) == "1":
        return
    for name, level in NOISY_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    # torch deprecated LeafSpec checks that Lightning still makes on every batch. The
    # environment carries the filter to processes that ddp_spawn starts.
    warnings.filterwarnings("ignore", message=re.escape(LEAFSPEC_WARNING), category=FutureWarning)
    wanted = f"ignore:{LEAFSPEC_WARNING}:FutureWarning"
    present = os.environ.get("PYTHONWARNINGS", "")
    if wanted not in present.split(","):
        os.environ["PYTHONWARNINGS"] = f"{present},{wanted}" if present else wanted


def interactive() -> bool:
    """Whether standard output is a terminal (progress bars redraw in place there)."""
    return sys.stdout.isatty()


class EpochLines(AfterEachEpoch):
    """One line per epoch with its metrics: progress for logs that are not a terminal."""

    def epoch_over(self, trainer: pl.Trainer, epoch: int) -> None:
        """Print ``epoch``'s epoch-level metrics on one line.

        Args:
            trainer: The trainer.
            epoch: The finished epoch.
        """
        if not trainer.is_global_zero:
            return
        shown = {
            name: float(value)
            for name, value in sorted(trainer.callback_metrics.items())
            if not name.endswith("_step") and getattr(value, "numel", lambda: 1)() == 1
        }
        total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else "?"
        values = "  ".join(f"{name}={value:.4f}" for name, value in shown.items())
        print(f"epoch {epoch + 1}/{total}  {values}".rstrip(), flush=True)


def plain_progress(trainer_node: dict[str, Any], callbacks: list[Any], epochs: bool) -> list[Any]:
    """Without a terminal: no progress bar, and (for training) one line per epoch.

    Args:
        trainer_node: The Trainer's config node, changed in place.
        callbacks: The run's callbacks.
        epochs: Add the per-epoch lines (training); evaluation only drops the bar.

    Returns:
        The callbacks to use.
    """
    if interactive() or trainer_node.get("enable_progress_bar") is False:
        return callbacks
    trainer_node["enable_progress_bar"] = False
    kept = [c for c in callbacks if not isinstance(c, pl.callbacks.ProgressBar)]
    return [*kept, EpochLines()] if epochs else kept


__all__ = ["VERBOSE_ENV", "EpochLines", "interactive", "plain_progress", "quiet_third_parties"]
