"""Trackers beyond the run folder: reached before training, tagged, given the run's files.

A run logged to MLflow gets its parameters and per-epoch metrics from Lightning's
``MLFlowLogger``; pegboard adds what Lightning does not: a check that the store answers
before any epoch runs, tags that say where the run lives, and, at the end, the resolved
config, the pack versions, the metrics, the plots and the best checkpoint as artifacts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pegboard.errors import ConfigError
from pegboard.file_lock import exclusive
from pegboard.runner.build import build

log = logging.getLogger(__name__)

#: How long the reachability check waits for a tracking server, in seconds.
PROBE_TIMEOUT_S = 10
#: Files of a run folder logged as artifacts when present (patterns), and their folder.
RUN_FILES = {
    "config.yaml": "",
    "packs.json": "",
    "metrics.json": "",
    "predictions.*": "",
    "*.png": "plots",
}


def is_mlflow(node_or_logger: Any) -> bool:
    """Whether a logger node (or a built logger) is Lightning's ``MLFlowLogger``.

    Args:
        node_or_logger: A config node with a ``_target_``, or a logger object.
    """
    if isinstance(node_or_logger, Mapping):
        return str(node_or_logger.get("_target_", "")).endswith("MLFlowLogger")
    return type(node_or_logger).__name__ == "MLFlowLogger"


def local_store(tracking_uri: str) -> Path | None:
    """The folder of a local tracking store (SQLite file or file store), else ``None``.

    Args:
        tracking_uri: An MLflow tracking URI.
    """
    parsed = urlparse(tracking_uri)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db: the path after the third slash.
        return Path(unquote(tracking_uri.split("///", 1)[-1])).parent
    if parsed.scheme == "file" or (not parsed.scheme and not tracking_uri.startswith("databricks")):
        return Path(unquote(parsed.path))
    return None


def artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """Where a new experiment of a local store keeps its artifacts: beside the store.

    MLflow's own default is ``./mlruns`` in whatever folder the run started from; a
    server decides for itself (``None``).

    Args:
        tracking_uri: An MLflow tracking URI.
        experiment: The experiment's name (its folder under ``mlartifacts``).
    """
    folder = local_store(tracking_uri)
    if folder is None or urlparse(tracking_uri).scheme != "sqlite":
        return None
    return str((folder / "mlartifacts" / experiment).resolve())


@contextlib.contextmanager
def _no_retries() -> Iterator[None]:
    # MLflow retries a refused connection 7 times with backoff (minutes); the check
    # must answer at once. Its documented variables are read at each request.
    probe = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(PROBE_TIMEOUT_S),
    }
    saved = {key: os.environ.get(key) for key in probe}
    os.environ.update(probe)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _short_reason(error: BaseException) -> str:
    text = str(error)
    # requests' messages nest the cause several levels deep; the errno part says it.
    found = re.search(r"\[Errno [^\]]*\][^'\")]*|Name or service not known|timed out", text)
    if found:
        return found.group(0).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_reachable(tracking_uri: str, key: str) -> None:
    """Refuse a tracking server that does not answer, in one line, before any work.

    Args:
        tracking_uri: The URI (only ``http(s)://`` ones are probed).
        key: The config key that set it, for the message.
    """
    if urlparse(tracking_uri).scheme not in ("http", "https"):
        return
    from mlflow.tracking import MlflowClient

    try:
        with _no_retries():
            MlflowClient(tracking_uri).search_experiments(max_results=1)
    except Exception as error:
        raise ConfigError(
            f"{key}={tracking_uri}: the MLflow tracking server does not answer "
            f"({_short_reason(error)}); start it (mlflow server --host ... --port ...) or "
            "drop the setting to use the local store ${paths.log_dir}/mlflow.db"
        ) from error


def open_store(tracking_uri: str, experiment: str | None = None) -> tuple[Any, str | None]:
    """An ``MlflowClient`` of the store, with its tables and ``experiment`` made once.

    Two runs started at the same second on a new SQLite store would both create its
    tables (the second fails), and two runs of a new experiment would both create it:
    a lock beside the database makes one process do it while the other waits.

    Args:
        tracking_uri: The store's URI.
        experiment: An experiment to find or create (artifacts beside a local store).

    Returns:
        The client, and the experiment's id (``None`` when no experiment was asked).
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    folder = local_store(tracking_uri)
    lock: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        lock = exclusive(folder / ".mlflow-store", "setting up the MLflow store")
    with lock:
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        if experiment is None:
            client.search_experiments(max_results=1)  # creates a new store's tables
            return client, None
        found = client.get_experiment_by_name(experiment)
        if found is not None:
            return client, str(found.experiment_id)
        try:
            location = artifact_location(tracking_uri, experiment)
            return client, str(client.create_experiment(experiment, location))
        except MlflowException:  # a server's other client made it just now
            found = client.get_experiment_by_name(experiment)
            if found is None:
                raise
            return client, str(found.experiment_id)


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
            f"{key}: MLflow cannot start a run at {tracking_uri}: {_short_reason(error)}"
        ) from error


def log_run_files(loggers: Sequence[Any], run_dir: Path, checkpoint: str | None) -> None:
    """Give each MLflow run the run folder's files: config, packs, metrics, plots, checkpoint.

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
            _log_artifacts(logger.experiment, logger.run_id, present)


def _log_artifacts(client: Any, run_id: str, files: Iterable[tuple[Path, str]]) -> None:
    for path, folder in files:
        client.log_artifact(run_id, str(path), folder or None)


__all__ = [
    "PROBE_TIMEOUT_S",
    "RUN_FILES",
    "artifact_location",
    "build_loggers",
    "check_reachable",
    "is_mlflow",
    "local_store",
    "log_run_files",
    "open_store",
    "run_tags",
]
