"""``pegboard train``: fit a model on a datamodule, test the best checkpoint, report metrics."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from pegboard.config_guard import check_config
from pegboard.errors import ConfigError
from pegboard.hooks import pack_hooks
from pegboard.runner.build import (
    build,
    check_nodes,
    check_seed,
    named_nodes,
    print_config_tree,
    resolve,
    scalar_metrics,
    write_json,
    write_run_files,
)
from pegboard.runner.callbacks import (
    ConfusionCounts,
    LogHyperparameters,
    MetricHistory,
    MonitorGuard,
    SigtermCheckpoint,
    TestValues,
)
from pegboard.runner.checkpoint_io import AtomicCheckpointIO
from pegboard.runner.contract import check_model, split_kit
from pegboard.runner.describe import fill_described, undescribed
from pegboard.runner.finetune import split_finetune, start_finetuning
from pegboard.runner.fit_check import check_fits
from pegboard.runner.lifecycle import Outcome, run_in_directory, test_summary
from pegboard.runner.metadata import RunMetadata
from pegboard.runner.monitors import check_final_metric, swept_metric
from pegboard.runner.quiet import plain_progress
from pegboard.runner.requeue import requeue_on_sigterm
from pegboard.runner.resume import continuation, resume_hint
from pegboard.runner.rundir import is_launching_process
from pegboard.runner.signals import EXIT_SIGTERM, lightning_stage
from pegboard.runner.task_fit import check_task_fit, described_values, runtime_choices
from pegboard.runner.tracking import build_loggers, log_run_files, run_tags
from pegboard.runtime import pack_versions

log = logging.getLogger(__name__)


__all__ = ["EXIT_SIGTERM", "check_optimizers", "resolve", "train"]


def train(cfg: DictConfig) -> float | None:
    """Run one training job from a composed ``train`` config.

    Args:
        cfg: The composed config (``model``, ``data``, ``trainer``, ``callbacks``,
            ``logger``, ``paths``, ``seed``...).

    Returns:
        The value of ``cfg.optimized_metric`` for sweepers, or ``None`` when unset.
    """
    run_dir = Path(cfg.paths.output_dir)
    metric = cfg.get("optimized_metric")

    def body() -> Outcome[float | None]:
        metrics = _train(cfg, run_dir)
        return Outcome(metrics.get(metric) if metric else None, metrics, test_summary(metrics))

    # On SLURM, a job that SIGTERM stopped (preemption, not scancel) goes back in the queue.
    with requeue_on_sigterm(cfg, run_dir):
        return run_in_directory(run_dir, "train", body, resume_hint(run_dir))


def check_optimizers(model: Any) -> None:
    """Build a ``pegboard.Model``'s optimizer and scheduler once, before training.

    A learning rate of ``nan`` or a scheduler argument torch refuses would otherwise stop
    the run inside ``fit`` with a traceback; here it is one line naming the setting.

    Args:
        model: The built model (other LightningModules are left to Lightning).
    """
    from pegboard.model import Model

    if not isinstance(model, Model):
        return
    try:
        model.configure_optimizers()
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"model.optimizer / model.scheduler cannot be built: {type(error).__name__}: {error}"
        ) from error


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


def _resolved_job(cfg: DictConfig) -> dict[str, Any]:
    resolved = resolve(cfg)
    # The kit's declaration is for tests only: never built, validated or recorded.
    resolved["model"] = split_kit(resolved["model"])[0]
    # Every _target_ of the job, wherever it sits, against the allow-list, before any import.
    check_config(resolved)
    return resolved


def _train(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    # Before resolving: a classifier's ${data.num_classes} has no value on regression data.
    check_task_fit(
        OmegaConf.select(cfg, "model._target_", default=None),
        described_values(cfg, "data"),
        runtime_choices(),
    )
    resolved = _resolved_job(cfg)
    ckpt_path, resolved = continuation(cfg, resolved, run_dir)
    packs = pack_versions()
    write_run_files(run_dir, resolved, packs)

    check_seed(resolved.get("seed"))
    pl.seed_everything(resolved.get("seed"), workers=True, verbose=False)
    check_nodes([("trainer", resolved["trainer"]), ("data", resolved["data"])])
    datamodule = build(resolved["data"], "data")
    if undescribed(resolved["data"]) and fill_described(cfg, datamodule):
        # The data said what the config left null (a CSV's columns): record it, so the
        # checkpoint and `pegboard eval` need nothing else. The task is known now.
        check_task_fit(resolved["model"].get("_target_"), described_values(cfg), runtime_choices())
        resolved = _resolved_job(cfg)
        write_run_files(run_dir, resolved, packs)
    if resolved.get("print_config"):
        print_config_tree(resolved, first=("model", "data", "trainer"))

    callback_nodes = named_nodes(resolved, "callbacks")
    logger_nodes = named_nodes(resolved, "logger")
    # Check every node before building any: model values often interpolate trainer and
    # data values, and the error should name what the user typed.
    check_nodes(
        [
            ("model", resolved["model"]),
            *((f"callbacks.{name}", node) for name, node in callback_nodes.items()),
            *((f"logger.{name}", node) for name, node in logger_nodes.items()),
        ]
    )
    model_node, finetune = split_finetune(resolved["model"])
    model = build(model_node, "model")
    # Before anything trains: a class Lightning would refuse, hyperparameters that no
    # checkpoint could reload (found today only when the best checkpoint is tested).
    check_model(model)
    # model.init_from's weights (never over a resumed checkpoint's), model.freeze's parts.
    keep_frozen = start_finetuning(model, finetune, cfg, ckpt_path)
    history, confusion, pairs = MetricHistory(), ConfusionCounts(), TestValues()
    built = {name: build(node, f"callbacks.{name}") for name, node in callback_nodes.items()}
    callbacks = list(built.values())
    check_optimizers(model)
    check_fits(model, resolved["data"], datamodule)
    hyperparameters = {
        "model": resolved["model"],
        "data": resolved["data"],
        "trainer": resolved["trainer"],
        "seed": resolved.get("seed"),
        "tags": list(resolved.get("tags") or []),
        "packs": dict(packs),
        "resumed_from": ckpt_path,
    }
    optimized = swept_metric(cfg)
    callbacks = [
        # First: its check after a validation run must come before any other callback's.
        MonitorGuard(
            {id(callback): f"callbacks.{name}" for name, callback in built.items()}, optimized
        ),
        *callbacks,
        *keep_frozen,
        LogHyperparameters(hyperparameters),
        RunMetadata(resolved, packs),
        SigtermCheckpoint(run_dir / "checkpoints"),
        history,
        confusion,
        pairs,
        *pack_hooks().callbacks(resolved, "train"),
    ]
    loggers = build_loggers(logger_nodes, run_dir, run_tags(resolved, run_dir, "train"))
    trainer = _build_trainer(resolved, callbacks, loggers)

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
        best = _best_checkpoint(trainer)
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

    check_final_metric(metrics, optimized)
    write_json(run_dir / "metrics.json", metrics)
    if resolved.get("plots", True) and is_launching_process():
        _plot(run_dir, history, (confusion, pairs), datamodule, trainer)
    log_run_files(trainer.loggers, run_dir, _best_checkpoint(trainer))
    return metrics


def _best_checkpoint(trainer: pl.Trainer) -> str | None:
    checkpoint = trainer.checkpoint_callback
    best = getattr(checkpoint, "best_model_path", "") if checkpoint else ""
    return best or None


def _plot(
    run_dir: Path,
    history: MetricHistory,
    tested: tuple[ConfusionCounts, TestValues],
    datamodule: Any,
    trainer: pl.Trainer,
) -> None:
    from pegboard.runner.plots import TestResults, write_plots
    from pegboard.supervision import target_of

    confusion, pairs = tested
    target = target_of(datamodule)
    results = TestResults(
        confusion.counts.tolist() if confusion.counts is not None else None,
        list(target.names) if target is not None and target.names else None,
        pairs.predicted,
        pairs.true,
    )
    try:
        write_plots(run_dir, history.epochs, results, trainer.loggers, trainer.global_step)
    except ImportError as error:  # matplotlib is a dependency: a broken install, one line
        raise ConfigError(f"plots need matplotlib ({error}); or set plots=false") from error
