"""The MLflow model registry: versions of exported models, and their checkpoints back.

``pegboard export ... register=NAME`` logs the exported file, its JSON sidecar, the pack
versions and the checkpoint it came from to an MLflow run, and registers them as a new
version of ``NAME``. ``ckpt_path=models:/NAME/VERSION`` (``eval``, ``predict``, ``export``,
``model.init_from``) fetches that version's checkpoint, which then loads like any other:
``weights_only=True``, its classes held to the allow-list.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError
from pegboard.runner.mlflow_store import check_reachable, open_store

#: The scheme of registered models, as MLflow spells it.
SCHEME = "models:/"
#: The checkpoint's file name inside a registered version.
CHECKPOINT_NAME = "model.ckpt"
#: The folder of a version's files inside its MLflow run.
MODEL_FOLDER = "model"
#: The experiment that export runs are recorded in.
EXPORT_EXPERIMENT = "export"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class ModelUri:
    """A parsed ``models:/NAME/VERSION`` (``VERSION``: a number or ``latest``).

    Args:
        name: The registered model's name.
        version: Its version, or ``latest``.
    """

    name: str
    version: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.name}/{self.version}"


def is_model_uri(value: Any) -> bool:
    """Whether a ``ckpt_path`` value names a registered model.

    Args:
        value: The value.
    """
    return str(value).startswith(SCHEME)


def check_name(name: Any, key: str = "register") -> str:
    """Refuse a model name MLflow URIs could not carry back.

    Args:
        name: The name.
        key: Its config key, for the message.
    """
    text = str(name)
    if not _NAME.match(text):
        raise ConfigError(
            f"{key}={name!r} must be a model name of letters, digits, '_', '.' and '-' "
            "(it is used in models:/NAME/VERSION)"
        )
    return text


def parse_model_uri(value: str) -> ModelUri:
    """Split ``models:/NAME/VERSION``.

    Args:
        value: The URI.
    """
    parts = value[len(SCHEME) :].split("/")
    if len(parts) != 2 or not (parts[1].isdigit() or parts[1] == "latest"):
        raise ConfigError(
            f"{value}: a registered model is named models:/NAME/VERSION, VERSION a number "
            "or latest (models:/digits-cnn/3)"
        )
    return ModelUri(check_name(parts[0], "models:/NAME"), parts[1])


def client(tracking_uri: str, key: str = "paths.tracking_uri") -> Any:
    """An ``MlflowClient`` for the store, checked to answer, or one line saying what to install.

    Args:
        tracking_uri: The store's URI.
        key: The config key that set it, for messages.
    """
    try:
        import mlflow  # noqa: F401
    except ImportError as error:
        raise ConfigError(
            f"the model registry needs MLflow: pip install pegboard-core[mlflow] ({error})"
        ) from error
    check_reachable(tracking_uri, key)
    return open_store(tracking_uri)[0]


def _registered_names(mlflow_client: Any) -> list[str]:
    return sorted(model.name for model in mlflow_client.search_registered_models())


def _version(mlflow_client: Any, uri: ModelUri, tracking_uri: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        versions = mlflow_client.search_model_versions(f"name='{uri.name}'")
    except MlflowException as error:
        raise ConfigError(f"{uri}: the registry at {tracking_uri} refused: {error}") from error
    if not versions:
        names = _registered_names(mlflow_client)
        listed = ", ".join(names) if names else "none yet"
        raise ConfigError(
            f"{uri}: no model {uri.name!r} is registered at {tracking_uri}; registered: "
            f"{listed} (register one with pegboard export ckpt_path=... register=NAME)"
        )
    by_number = {int(version.version): version for version in versions}
    number = max(by_number) if uri.version == "latest" else int(uri.version)
    if number not in by_number:
        listed = ", ".join(str(n) for n in sorted(by_number))
        raise ConfigError(f"{uri}: {uri.name} has no version {number}; its versions: {listed}")
    return by_number[number]


def _cache_folder(tracking_uri: str, uri: ModelUri, version: str) -> Path:
    from pegboard.weights import cache_root

    store = hashlib.sha256(tracking_uri.encode()).hexdigest()[:16]
    return cache_root() / "registry" / store / uri.name / version


def registered_checkpoint(value: str, tracking_uri: str) -> Path:
    """The checkpoint of a registered model version, fetched once into the cache.

    Args:
        value: ``models:/NAME/VERSION``.
        tracking_uri: The store the model is registered in (``paths.tracking_uri``).

    Returns:
        The local checkpoint file.
    """
    import mlflow.artifacts

    uri = parse_model_uri(value)
    mlflow_client = client(tracking_uri)
    version = _version(mlflow_client, uri, tracking_uri)
    folder = _cache_folder(tracking_uri, uri, str(version.version))
    target = folder / CHECKPOINT_NAME
    if target.is_file():  # a version's files never change
        return target
    source = mlflow_client.get_model_version_download_uri(uri.name, version.version)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{source.rstrip('/')}/{CHECKPOINT_NAME}",
            dst_path=str(staging),
            tracking_uri=tracking_uri,
        )
        if not (staging / CHECKPOINT_NAME).is_file():
            raise ConfigError(f"{uri} holds no {CHECKPOINT_NAME}: not registered by pegboard")
        folder.mkdir(exist_ok=True)
        # Renamed into place: a second run fetching the same version never reads half a file.
        (staging / CHECKPOINT_NAME).replace(target)
    except ConfigError:
        raise
    except Exception as error:
        raise ConfigError(f"{uri}: cannot fetch its checkpoint from {source}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def register_export(
    tracking_uri: str,
    name: str,
    files: list[Path],
    checkpoint: Path,
    tags: Mapping[str, str],
) -> str:
    """Log an export's files to a new MLflow run and register them as a version of ``name``.

    Args:
        tracking_uri: The store (``paths.tracking_uri``).
        name: The registered model's name.
        files: The artifact, its sidecar, ``packs.json``.
        checkpoint: The checkpoint exported (stored as ``model/model.ckpt``).
        tags: Tags of the run and the version (format, model class, packs).

    Returns:
        The new version's number.
    """
    from mlflow.exceptions import MlflowException

    client(tracking_uri)
    mlflow_client, experiment_id = open_store(tracking_uri, EXPORT_EXPERIMENT)
    run = mlflow_client.create_run(str(experiment_id), tags=dict(tags), run_name=name)
    run_id = run.info.run_id
    try:
        for path in files:
            mlflow_client.log_artifact(run_id, str(path), MODEL_FOLDER)
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / CHECKPOINT_NAME
            shutil.copyfile(checkpoint, copy)
            mlflow_client.log_artifact(run_id, str(copy), MODEL_FOLDER)
        try:
            mlflow_client.create_registered_model(name)
        except MlflowException as error:
            if getattr(error, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                raise
        version = mlflow_client.create_model_version(
            name, f"{run.info.artifact_uri}/{MODEL_FOLDER}", run_id=run_id, tags=dict(tags)
        )
    except BaseException:
        mlflow_client.set_terminated(run_id, "FAILED")
        raise
    mlflow_client.set_terminated(run_id)
    return str(version.version)


__all__ = [
    "CHECKPOINT_NAME",
    "SCHEME",
    "ModelUri",
    "check_name",
    "client",
    "is_model_uri",
    "parse_model_uri",
    "register_export",
    "registered_checkpoint",
]
