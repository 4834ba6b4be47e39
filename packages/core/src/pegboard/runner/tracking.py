"""Trackers beyond the run folder: reached before training, tagged, given the run's files.

A run logged to MLflow or W&B gets its parameters and per-epoch metrics from Lightning's
loggers; pegboard adds what Lightning does not: an MLflow store reached before any epoch
runs, tags and a run name that say where the run lives, one W&B run per job of a
multirun, and, at the end, the resolved config, the pack versions, the metrics, the plots
and the best checkpoint as the run's files.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError
from pegboard.runner.build import build
from pegboard.runner.mlflow_store import (
    artifact_location,
    check_reachable,
    open_store,
    short_reason,
)

log = logging.getLogger(__name__)

#: Files of a run folder logged as artifacts when present (patterns), and their folder.
RUN_FILES = {
    "config.yaml": "",
    "packs.json": "",
    "metrics.json": "",
    "predictions.*": "",
    "*.png": "plots",
}


def _finish_previous_wandb_run() -> None:
    # W&B keeps one run per process: the next job of a multirun (or a joblib worker's
    # next job) would write into the last job's run unless it is finished first.
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish()


def is_logger(node_or_logger: Any, class_name: str) -> bool:
    """Whether a logger node (or a built logger) is Lightning's logger of that class.

    Args:
        node_or_logger: A config node with a ``_target_``, or a logger object.
        class_name: ``MLFlowLogger`` or ``WandbLogger``.
    """
    if isinstance(node_or_logger, Mapping):
        return str(node_or_logger.get("_target_", "")).endswith(class_name)
    return type(node_or_logger).__name__ == class_name


def is_mlflow(node_or_logger: Any) -> bool:
    """Whether a logger node (or a built logger) is Lightning's ``MLFlowLogger``.

    Args:
        node_or_logger: A config node with a ``_target_``, or a logger object.
    """
    return is_logger(node_or_logger, "MLFlowLogger")


def is_wandb(node_or_logger: Any) -> bool:
    """Whether a logger node (or a built logger) is Lightning's ``WandbLogger``.

    Args:
        node_or_logger: A config node with a ``_target_``, or a logger object.
    """
    return is_logger(node_or_logger, "WandbLogger")


def _mlflow_node(node: Mapping[str, Any], run_dir: Path, tags: Mapping[str, str]) -> dict[str, Any]:
    prepared = dict(node)
    uri = str(prepared.get("tracking_uri") or "")
    if not prepared.get("run_name"):
        prepared["run_name"] = run_dir.name
    if not prepared.get("artifact_location"):
        experiment = str(prepared.get("experiment_name") or "default")
        prepared["artifact_location"] = artifact_location(uri, experiment)
    prepared["tags"] = {**tags, **dict(prepared.get("tags") or {})}
    return prepared


def run_tags(config: Mapping[str, Any], run_dir: Path, command: str) -> dict[str, str]:
    """The tags pegboard puts on a tracked run: where it lives and what it ran.

    Args:
        config: The resolved config.
        run_dir: The run folder.
        command: ``train``, ``eval``...
    """
    tags = {
        "pegboard.command": command,
        "pegboard.run_dir": str(run_dir.resolve()),
        "pegboard.model": str((config.get("model") or {}).get("_target_", "")),
        "pegboard.data": str((config.get("data") or {}).get("_target_", "")),
    }
    labels = [str(tag) for tag in config.get("tags") or []]
    if labels:
        tags["pegboard.tags"] = ",".join(labels)
    return tags


def build_loggers(
    nodes: Mapping[str, Mapping[str, Any]], run_dir: Path, tags: Mapping[str, str]
) -> list[Any]:
    """Build the config's loggers; an MLflow store is reached now, not after an epoch.

    Args:
        nodes: Logger name to its resolved node (``named_nodes(config, "logger")``).
        run_dir: The run folder (the MLflow run is named after it).
        tags: Tags for tracked runs (``run_tags``).
    """
    loggers = []
    for name, node in nodes.items():
        if is_mlflow(node):
            node = _mlflow_node(node, run_dir, tags)
            uri = str(node.get("tracking_uri") or "")
            check_reachable(uri, f"logger.{name}.tracking_uri")
            open_store(uri, str(node.get("experiment_name") or "Default"))
        if is_wandb(node):
            node = {**node, "name": node.get("name") or run_dir.name}
            _finish_previous_wandb_run()
        built = build(node, f"logger.{name}")
        if is_mlflow(built):
            _start(built, f"logger.{name}", str(node.get("tracking_uri")))
        loggers.append(built)
    return loggers


def _start(logger: Any, key: str, tracking_uri: str) -> None:
    # Creating the run here makes a store that refuses it (a read-only database, a
    # server that rejects the experiment) fail before training, naming the logger.
    try:
        _ = logger.run_id  # the property creates the experiment and the run
    except Exception as error:
        raise ConfigError(
            f"{key}: MLflow cannot start a run at {tracking_uri}: {short_reason(error)}"
        ) from error


def log_run_files(loggers: Sequence[Any], run_dir: Path, checkpoint: str | None) -> None:
    """Give each tracked run the run folder's files: config, packs, metrics, plots, checkpoint.

    Args:
        loggers: The Trainer's loggers.
        run_dir: The run folder.
        checkpoint: The best checkpoint's path, or ``None``.
    """
    files = [
        (path, folder) for name, folder in RUN_FILES.items() for path in sorted(run_dir.glob(name))
    ]
    if checkpoint:
        files.append((Path(checkpoint), "checkpoints"))
    present = [(path, folder) for path, folder in files if path.is_file()]
    for logger in loggers:
        if is_mlflow(logger) and logger.run_id:
            for path, folder in present:
                logger.experiment.log_artifact(logger.run_id, str(path), folder or None)
        elif is_wandb(logger):
            _save_to_wandb(logger.experiment, present, run_dir)


def _save_to_wandb(run: Any, files: Iterable[tuple[Path, str]], run_dir: Path) -> None:
    # Offline, wandb links each file into the run's files/ folder and `wandb sync`
    # uploads it; the plots keep their names, the checkpoint its checkpoints/ folder.
    for path, _ in files:
        base = run_dir if path.is_relative_to(run_dir) else path.parent
        run.save(str(path), base_path=str(base), policy="now")


__all__ = [
    "RUN_FILES",
    "build_loggers",
    "is_logger",
    "is_mlflow",
    "is_wandb",
    "log_run_files",
    "run_tags",
]
