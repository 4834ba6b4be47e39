"""``pegboard eval``: test a checkpoint, on the data it was trained on or on other data."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
from omegaconf import DictConfig

from pegboard.runner.build import build, check_nodes, scalar_metrics, write_json, write_run_files
from pegboard.runner.fit_check import check_fits
from pegboard.runner.lifecycle import Outcome, test_summary
from pegboard.runner.signals import lightning_stage
from pegboard.runner.stage import build_trainer, open_checkpoint, run_stage
from pegboard.runner.tracking import log_run_files
from pegboard.runtime import pack_versions

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test the checkpoint ``cfg.ckpt_path`` and write its metrics to the run directory.

    Args:
        cfg: A composed ``eval`` config: ``ckpt_path`` (a file, ``last`` or ``best``),
            optionally ``run``, ``data`` (other data than the checkpoint's), ``trainer``.

    Returns:
        The test metrics (``test/acc``, ``test/loss``...).
    """
    return run_stage(cfg, "eval", _evaluate)


def _evaluate(cfg: DictConfig, run_dir: Path) -> Outcome[dict[str, float]]:
    restored = open_checkpoint(cfg, "eval")
    write_run_files(run_dir, restored.config, pack_versions())
    check_nodes([("data", restored.config["data"])])
    pl.seed_everything(int(restored.config.get("seed") or 0), workers=True, verbose=False)
    datamodule = build(restored.config["data"], "data")
    check_fits(restored.model, restored.config["data"], datamodule)
    trainer = build_trainer(restored, "eval")
    log.info("Testing %s on %s", restored.path, type(datamodule).__name__)
    # The model holds the checkpoint's weights already; the Trainer's RestoreDataState
    # gives the datamodule its saved state (normalization) after its setup.
    with lightning_stage():
        results = trainer.test(restored.model, datamodule=datamodule, verbose=False)
    metrics: dict[str, float] = {}
    for result in results:
        metrics.update(scalar_metrics(result))
    write_json(run_dir / "metrics.json", metrics)
    log_run_files(trainer.loggers, run_dir, None)  # logger=mlflow: the config and metrics
    return Outcome(metrics, metrics, test_summary(metrics))


__all__ = ["evaluate"]
