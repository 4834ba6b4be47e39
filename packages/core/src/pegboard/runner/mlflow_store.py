"""The MLflow store a command uses: found on disk or on a server, reached, set up once.

``paths.tracking_uri`` names it: by default one SQLite file beside the runs, whose
artifacts live beside it; or a server, which keeps its own.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pegboard.errors import ConfigError
from pegboard.file_lock import exclusive

#: How long the reachability check waits for a tracking server, in seconds.
PROBE_TIMEOUT_S = 10


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


def short_reason(error: BaseException) -> str:
    """What went wrong, in a few words (``[Errno 111] Connection refused``).

    Args:
        error: An error of MLflow's client or of ``requests`` under it.
    """
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
            f"({short_reason(error)}); start it (mlflow server --host ... --port ...) or "
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


__all__ = [
    "PROBE_TIMEOUT_S",
    "artifact_location",
    "check_reachable",
    "local_store",
    "open_store",
    "short_reason",
]
