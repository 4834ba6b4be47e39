"""Callbacks the runner adds to every training run: SIGTERM checkpoints and plot data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from pegboard.runner.monitors import MonitorGuard
from pegboard.runner.run_search import LAST_NAME

log = logging.getLogger(__name__)

# MonitorGuard lives with the monitor checks; it is imported from here as well.
__all__ = [
    "AfterEachEpoch",
    "ConfusionCounts",
    "LogHyperparameters",
    "MetricHistory",
    "MonitorGuard",
    "SigtermCheckpoint",
    "TestValues",
]

#: Epoch-level metrics kept for the learning-curve plot.
CURVE_METRICS = ("train/loss", "val/loss", "train/acc", "val/acc", "train/r2", "val/r2")


class SigtermCheckpoint(pl.Callback):
    """Save ``last.ckpt`` when the process receives SIGTERM, before Lightning stops.

    Lightning's signal handler only notes the signal; the training loop then raises
    ``SIGTERMException`` after the current batch. The checkpoint is written at the end
    of that batch (the state ``ModelCheckpoint`` saves mid-epoch, which Lightning's
    restart logic expects), or from ``on_exception`` when the signal came elsewhere
    (during validation). ``pegboard train ckpt_path=last`` continues from it.

    Args:
        dirpath: The checkpoint folder (``<run>/checkpoints``).
    """

    def __init__(self, dirpath: str | Path) -> None:
        self.path = Path(dirpath) / LAST_NAME
        self.saved = False

    def _save(self, trainer: pl.Trainer) -> None:
        if self.saved:
            return
        # Every rank calls it (DDP synchronises inside); the strategy writes on rank 0.
        trainer.save_checkpoint(self.path)
        self.saved = True
        if trainer.is_global_zero:
            log.warning("SIGTERM: saved %s at step %d", self.path, trainer.global_step)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if trainer.received_sigterm:
            self._save(trainer)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        from pytorch_lightning.utilities.exceptions import SIGTERMException

        # Not mid-validation: that state cannot resume (the epoch's validation metrics,
        # which early stopping and the checkpoint monitor need, are not in it). The last
        # complete epoch's last.ckpt stays the one to continue from.
        if trainer.sanity_checking or trainer.validating:
            return
        if isinstance(exception, SIGTERMException) and trainer.state.fn == "fit":
            self._save(trainer)


class AfterEachEpoch(pl.Callback):
    """Calls ``epoch_over(trainer, epoch)`` once a training epoch is wholly over.

    Lightning runs a callback's ``on_train_epoch_end`` before the module's own, where
    tasks log their epoch means: the epoch's metrics are read at the next epoch's start
    (or at the end of training) instead.
    """

    def __init__(self) -> None:
        self._finished_epoch: int | None = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._finished_epoch = trainer.current_epoch

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._flush(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._flush(trainer)

    def _flush(self, trainer: pl.Trainer) -> None:
        if self._finished_epoch is not None:
            self.epoch_over(trainer, self._finished_epoch)
            self._finished_epoch = None

    def epoch_over(self, trainer: pl.Trainer, epoch: int) -> None:
        """Handle the metrics of finished epoch ``epoch`` (``trainer.callback_metrics``).

        Args:
            trainer: The trainer.
            epoch: The finished epoch, from 0.
        """
        raise NotImplementedError


class MetricHistory(AfterEachEpoch):
    """Collect epoch-level metrics for the learning-curve plot, whatever the logger.

    Attributes:
        epochs: One dict per finished training epoch: ``epoch`` and the metrics of
            ``CURVE_METRICS`` that were logged.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[dict[str, float]] = []

    def epoch_over(self, trainer: pl.Trainer, epoch: int) -> None:
        """Record the curve metrics of ``epoch``.

        Args:
            trainer: The trainer.
            epoch: The finished epoch.
        """
        metrics = trainer.callback_metrics
        row = {"epoch": float(epoch)}
        for name in CURVE_METRICS:
            value = metrics.get(name)
            if value is not None:
                row[name] = float(value)
        self.epochs.append(row)


class ConfusionCounts(pl.Callback):
    """Count (true class, predicted class) pairs over the test run, summed over processes.

    Uses what a task's ``test_step`` returns: a dict with ``prediction`` and ``target``
    (``ClassificationModel`` does); other models simply yield no matrix.

    Args:
        num_classes: Classes of the task; ``None`` reads ``pl_module.num_classes``.
    """

    def __init__(self, num_classes: int | None = None) -> None:
        self.num_classes = num_classes
        self.counts: torch.Tensor | None = None

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        classes = self.num_classes or getattr(pl_module, "num_classes", None)
        self.counts = torch.zeros(classes, classes, dtype=torch.long) if classes else None

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.counts is None or not isinstance(outputs, dict) or "prediction" not in outputs:
            return
        classes = self.counts.shape[0]
        pairs = outputs["target"].long().cpu() * classes + outputs["prediction"].long().cpu()
        self.counts += torch.bincount(pairs, minlength=classes * classes).view(classes, classes)

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.counts is not None and trainer.world_size > 1:
            summed = trainer.strategy.reduce(
                self.counts.to(pl_module.device).float(), reduce_op="sum"
            )
            self.counts = summed.round().long().cpu()


class TestValues(pl.Callback):
    """Keep predicted and true values of the test run, for a regression's scatter plot.

    Uses what a task's ``test_step`` returns: a dict with ``values`` and
    ``target_values`` (``RegressionModel`` does). At most ``limit`` samples per process
    are kept (a plot shows no more), gathered from every process at the end.

    Args:
        limit: Samples kept per process.
    """

    def __init__(self, limit: int = 5000) -> None:
        self.limit = limit
        self.predicted: list[list[float]] | None = None
        self.true: list[list[float]] | None = None
        self._kept: list[torch.Tensor] = []

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.predicted = self.true = None
        self._kept = []

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or "values" not in outputs:
            return
        room = self.limit - sum(len(kept) for kept in self._kept)
        if room > 0:
            pair = torch.stack([outputs["values"], outputs["target_values"]], dim=1)
            self._kept.append(pair[:room].detach().float())

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._kept:
            return
        pairs = torch.cat(self._kept)  # (samples, 2, values)
        if trainer.world_size > 1:
            # all_gather needs one size everywhere: pad with NaN to the limit, drop after.
            padded = torch.full((self.limit, *pairs.shape[1:]), float("nan"), device=pairs.device)
            padded[: len(pairs)] = pairs
            gathered = trainer.strategy.all_gather(padded).reshape(-1, *pairs.shape[1:])
            pairs = gathered[~gathered.isnan().any(dim=(1, 2))]
        self.predicted = pairs[:, 0].cpu().tolist()
        self.true = pairs[:, 1].cpu().tolist()


class LogHyperparameters(pl.Callback):
    """Log the run's hyperparameters to every logger when fitting starts.

    At fit start, not before ``fit``: with ``strategy=ddp_spawn`` the loggers then start
    in the process that trains. Started in the launching process first, Lightning's CSV
    logger there keeps a header without the metrics the workers wrote, and writing the
    test metrics after ``fit`` fails ("dict contains fields not in fieldnames").

    Args:
        hyperparameters: Plain values: the model, data and trainer configs, seed, tags...
    """

    def __init__(self, hyperparameters: dict[str, Any]) -> None:
        self.hyperparameters = hyperparameters

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for logger in trainer.loggers:
            logger.log_hyperparams(self.hyperparameters)
