"""``pegboard train``: fit a model on a datamodule, test the best checkpoint, report metrics."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from pegboard.errors import ConfigError
from pegboard.runner.metadata import RunMetadata
from pegboard.runner.rundir import STATUS_FILE, RunStatus, is_launching_process
from pegboard.runner.validate import check_node
from pegboard.runtime import pack_versions

log = logging.getLogger(__name__)


def resolve(cfg: DictConfig) -> dict[str, Any]:
    """The config with every interpolation resolved, as plain dicts and lists.

    Args:
        cfg: A composed config node.
    """
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return {str(key): value for key, value in container.items()}


def _named_nodes(cfg: DictConfig, group: str) -> dict[str, Any]:
    node = cfg.get(group)
    if node is None:
        return {}
    return {
        name: sub
        for name, sub in resolve(node).items()
        if isinstance(sub, dict) and "_target_" in sub
    }


def _build(node: Mapping[str, Any], path: str, **extra: Any) -> Any:
    try:
        # _convert_="all": objects receive plain lists and dicts, so a model's saved
        # hyperparameters are primitives that load with torch.load(weights_only=True).
        return instantiate(node, _convert_="all", **extra)
    except Exception as error:
        cause = error.__cause__ or error
        raise ConfigError(
            f"could not build {path} ({node.get('_target_')}): {type(cause).__name__}: {cause}"
        ) from error


def _write_run_files(run_dir: Path, config: dict[str, Any], packs: Mapping[str, str]) -> None:
    if not is_launching_process():
        return
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(config))
    (run_dir / "packs.json").write_text(json.dumps(dict(packs), indent=2, sort_keys=True))


def _scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in sorted(metrics.items())}


def train(cfg: DictConfig) -> float | None:
    """Run one training job from a composed ``train`` config.

    Args:
        cfg: The composed config (``model``, ``data``, ``trainer``, ``callbacks``,
            ``logger``, ``paths``, ``seed``...).

    Returns:
        The value of ``cfg.optimized_metric`` for sweepers, or ``None`` when unset.
    """
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    status = RunStatus(run_dir)
    try:
        metrics = _train(cfg, run_dir)
    except BaseException as error:
        status.failed(error)
        if is_launching_process():
            print(f"Run directory {run_dir} is marked failed in {STATUS_FILE}.", file=sys.stderr)
        raise
    status.completed(metrics)
    if is_launching_process():
        if "test/acc" in metrics:
            print(f"Test accuracy: {metrics['test/acc']:.4f}")
        print(f"Run directory: {run_dir}")
    metric = cfg.get("optimized_metric")
    return metrics.get(metric) if metric else None


def _train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    resolved = resolve(cfg)
    packs = pack_versions()
    _write_run_files(run_dir, resolved, packs)

    callback_nodes = _named_nodes(cfg, "callbacks")
    logger_nodes = _named_nodes(cfg, "logger")
    # Check every node before building any: the trainer first, because model values
    # often interpolate trainer values and the error should name what the user typed.
    for path, node in (
        ("trainer", resolved["trainer"]),
        ("data", resolved["data"]),
        ("model", resolved["model"]),
        *((f"callbacks.{name}", node) for name, node in callback_nodes.items()),
        *((f"logger.{name}", node) for name, node in logger_nodes.items()),
    ):
        check_node(node, path)

    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = _build(resolved["data"], "data")
    model = _build(resolved["model"], "model")
    callbacks = [_build(node, f"callbacks.{name}") for name, node in callback_nodes.items()]
    callbacks.append(RunMetadata(resolved, packs))
    loggers = [_build(node, f"logger.{name}") for name, node in logger_nodes.items()]
    trainer: pl.Trainer = _build(
        resolved["trainer"], "trainer", callbacks=callbacks, logger=loggers or False
    )

    hyperparameters = {
        "model": resolved["model"],
        "data": resolved["data"],
        "trainer": resolved["trainer"],
        "seed": resolved.get("seed"),
        "packs": dict(packs),
    }
    for logger in trainer.loggers:
        logger.log_hyperparams(hyperparameters)

    log.info("Training %s on %s", type(model).__name__, type(datamodule).__name__)
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    metrics = _scalar_metrics(trainer.callback_metrics)

    if cfg.get("test"):
        checkpoint = trainer.checkpoint_callback
        best = getattr(checkpoint, "best_model_path", "") if checkpoint else ""
        if best:
            log.info("Testing the best checkpoint %s", best)
        # Lightning restores the weights from `best` before testing; without a
        # checkpoint (fast_dev_run, callbacks=none) it tests the weights in memory.
        results = trainer.test(model, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        for result in results:
            metrics.update(_scalar_metrics(result))

    if is_launching_process():
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return metrics
