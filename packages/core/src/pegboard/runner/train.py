"""``pegboard train``: fit a model on a datamodule, test the best checkpoint, report metrics."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig

from pegboard.config_guard import check_checkpoint_config, check_config
from pegboard.errors import ConfigError
from pegboard.runner.build import (
    build,
    check_nodes,
    echo,
    named_nodes,
    print_config_tree,
    resolve,
    scalar_metrics,
    write_json,
    write_run_files,
)
from pegboard.runner.callbacks import ConfusionCounts, MetricHistory, SigtermCheckpoint
from pegboard.runner.checkpoint import record_of
from pegboard.runner.checkpoint_io import AtomicCheckpointIO, load_checkpoint
from pegboard.runner.lifecycle import run_with_status
from pegboard.runner.metadata import CHECKPOINT_KEY, RunMetadata
from pegboard.runner.quiet import plain_progress
from pegboard.runner.resume import command_line_overrides, continued_config
from pegboard.runner.run_search import NoCheckpoint, resolve_checkpoint
from pegboard.runner.rundir import is_launching_process
from pegboard.runner.signals import EXIT_SIGTERM, lightning_stage
from pegboard.runtime import pack_versions

log = logging.getLogger(__name__)


__all__ = ["EXIT_SIGTERM", "resolve", "resume_checkpoint", "train"]


def train(cfg: DictConfig) -> float | None:
    """Run one training job from a composed ``train`` config.

    Args:
        cfg: The composed config (``model``, ``data``, ``trainer``, ``callbacks``,
            ``logger``, ``paths``, ``seed``...).

    Returns:
        The value of ``cfg.optimized_metric`` for sweepers, or ``None`` when unset.
    """
    run_dir = Path(cfg.paths.output_dir)
    hint = [
        f"{run_dir / 'checkpoints' / 'last.ckpt'} holds the state (when training had begun).",
        f"Continue with: pegboard train ckpt_path=last run={run_dir}{_choices()}",
    ]
    metrics = run_with_status(
        run_dir, "train", lambda: (found := _train(cfg, run_dir), found), hint
    )
    if "test/acc" in metrics:
        echo(f"Test accuracy: {metrics['test/acc']:.4f}")
    echo(f"Run directory: {run_dir}")
    metric = cfg.get("optimized_metric")
    return metrics.get(metric) if metric else None


def _choices() -> str:
    """`` model=... data=...`` as this run chose them: the resume line composes with them."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ""
    choices = HydraConfig.get().runtime.choices
    return "".join(
        f" {group}={choices[group]}" for group in ("model", "data") if choices.get(group)
    )


def resume_checkpoint(cfg: DictConfig, run_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The checkpoint that ``ckpt_path`` / ``resume`` ask training to continue from.

    Args:
        cfg: The train config: ``ckpt_path`` (a file, ``last``, or null), ``resume``
            (true means ``ckpt_path=last``) and ``run`` (the run to continue; without
            it, the newest run that did not complete).
        run_dir: This run's directory, never picked as the one to continue.

    Returns:
        The file and its contents, or ``None`` when training starts afresh.
    """
    value = cfg.get("ckpt_path")
    if value is None and cfg.get("resume"):
        value = "last"
    if value is None:
        return None
    runs_dir = Path(cfg.paths.log_dir) / "train" / "runs"
    if str(value) == "last":
        found = resolve_checkpoint("last", runs_dir, cfg.get("run"), run_dir, unfinished=True)
        echo(f"Resuming from {found[0]}")
        return found
    path = Path(str(value))
    return path, load_checkpoint(path)  # a missing or corrupt file is refused before building


def _continuation(
    cfg: DictConfig, resolved: dict[str, Any], run_dir: Path
) -> tuple[str | None, dict[str, Any]]:
    """The checkpoint to continue from and the config to continue with (see ``resume``)."""
    try:
        found = resume_checkpoint(cfg, run_dir)
    except NoCheckpoint as missing:
        return None, _started_over(missing.run, resolved, run_dir)
    if found is None:
        return None, resolved
    path, checkpoint = found
    if CHECKPOINT_KEY not in checkpoint:  # a Lightning checkpoint of another tool
        echo(f"{path} records no pegboard config: training continues with this config")
        return str(path), resolved
    record = record_of(checkpoint, path)
    check_checkpoint_config(record.config, checkpoint, path)
    overrides = command_line_overrides()
    config, changes = continued_config(record.config, overrides, run_dir, resolved)
    check_config(config)
    config["ckpt_path"] = str(path)
    echo(
        f"Continuing with the config stored in {path.name}"
        + (": " + "; ".join(changes) if changes else " (the command line changes nothing)")
    )
    return str(path), config


def _started_over(run: Path, resolved: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The config of a run stopped before its first checkpoint: it starts over with it."""
    from omegaconf import OmegaConf

    recorded = run / "config.yaml"
    if not recorded.is_file():
        raise ConfigError(
            f"run {run} stopped before it wrote its config, so there is nothing to continue: "
            "run the original command again"
        )
    loaded = OmegaConf.to_container(OmegaConf.load(recorded), resolve=False)
    assert isinstance(loaded, dict)
    stored = {str(key): value for key, value in loaded.items()}
    # A file of a run folder is data like a checkpoint, and is held to the same rules.
    check_checkpoint_config(stored, {}, recorded)
    config, changes = continued_config(stored, command_line_overrides(), run_dir, resolved)
    check_config(config)
    echo(
        f"Run {run} stopped before its first checkpoint: starting it over with its config"
        + (": " + "; ".join(changes) if changes else "")
    )
    return config


def _build_trainer(
    resolved: dict[str, Any], callbacks: list[pl.Callback], loggers: list[Any]
) -> pl.Trainer:
    node = dict(resolved["trainer"])
    callbacks = plain_progress(node, callbacks, epochs=True)
    # Checkpoints are renamed into place: a crash mid-write never leaves a broken file.
    plugins = [*(node.pop("plugins", None) or []), AtomicCheckpointIO()]
    trainer: pl.Trainer = build(
        node, "trainer", callbacks=callbacks, logger=loggers or False, plugins=plugins
    )
    return trainer


def _train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    resolved = resolve(cfg)
    # Every _target_ of the job, wherever it sits, against the allow-list, before any import.
    check_config(resolved)
    ckpt_path, resolved = _continuation(cfg, resolved, run_dir)
    packs = pack_versions()
    write_run_files(run_dir, resolved, packs)
    if resolved.get("print_config"):
        print_config_tree(resolved, first=("model", "data", "trainer"))

    callback_nodes = named_nodes(resolved, "callbacks")
    logger_nodes = named_nodes(resolved, "logger")
    # Check every node before building any: the trainer first, because model values
    # often interpolate trainer values and the error should name what the user typed.
    check_nodes(
        [
            ("trainer", resolved["trainer"]),
            ("data", resolved["data"]),
            ("model", resolved["model"]),
            *((f"callbacks.{name}", node) for name, node in callback_nodes.items()),
            *((f"logger.{name}", node) for name, node in logger_nodes.items()),
        ]
    )

    pl.seed_everything(resolved.get("seed"), workers=True, verbose=False)
    datamodule = build(resolved["data"], "data")
    model = build(resolved["model"], "model")
    history, confusion = MetricHistory(), ConfusionCounts()
    callbacks = [build(node, f"callbacks.{name}") for name, node in callback_nodes.items()]
    callbacks += [
        RunMetadata(resolved, packs),
        SigtermCheckpoint(run_dir / "checkpoints"),
        history,
        confusion,
    ]
    loggers = [build(node, f"logger.{name}") for name, node in logger_nodes.items()]
    trainer = _build_trainer(resolved, callbacks, loggers)

    hyperparameters = {
        "model": resolved["model"],
        "data": resolved["data"],
        "trainer": resolved["trainer"],
        "seed": resolved.get("seed"),
        "tags": list(resolved.get("tags") or []),
        "packs": dict(packs),
        "resumed_from": ckpt_path,
    }
    for logger in trainer.loggers:
        logger.log_hyperparams(hyperparameters)

    log.info("Training %s on %s", type(model).__name__, type(datamodule).__name__)
    with lightning_stage():
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    # The run's final epoch-level metrics: a step-level value (train/loss_step) is one
    # batch's, which says nothing about the run.
    metrics = {
        name: value
        for name, value in scalar_metrics(trainer.callback_metrics).items()
        if not name.endswith("_step")
    }

    if resolved.get("test"):
        checkpoint = trainer.checkpoint_callback
        best = getattr(checkpoint, "best_model_path", "") if checkpoint else ""
        if best:
            log.info("Testing the best checkpoint %s", best)
        # Lightning restores the weights from `best` before testing; without a
        # checkpoint (fast_dev_run, callbacks=none) it tests the weights in memory.
        with lightning_stage():
            results = trainer.test(
                model,
                datamodule=datamodule,
                ckpt_path=best or None,
                verbose=False,
                weights_only=True,
            )
        for result in results:
            metrics.update(scalar_metrics(result))

    write_json(run_dir / "metrics.json", metrics)
    if resolved.get("plots", True) and is_launching_process():
        _plot(run_dir, history, confusion, datamodule, trainer)
    return metrics


def _plot(
    run_dir: Path,
    history: MetricHistory,
    confusion: ConfusionCounts,
    datamodule: Any,
    trainer: pl.Trainer,
) -> None:
    from pegboard.runner.plots import write_plots

    try:
        names: list[str] | None = list(datamodule.class_names)
    except (AttributeError, RuntimeError, NotImplementedError):
        names = None
    counts = confusion.counts.tolist() if confusion.counts is not None else None
    try:
        write_plots(run_dir, history.epochs, counts, names, trainer.loggers, trainer.global_step)
    except ImportError as error:  # matplotlib is a dependency; a broken install only warns
        raise ConfigError(f"plots need matplotlib ({error}); or set plots=false") from error
