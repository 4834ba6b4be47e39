"""The run record pegboard stores in a checkpoint: its config, pack versions and model class."""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError
from pegboard.runner.metadata import CHECKPOINT_KEY

log = logging.getLogger(__name__)


@dataclass
class Record:
    """What pegboard stored in a checkpoint: the run's resolved config and pack versions.

    Args:
        config: The resolved config of the training run.
        packs: Distribution name to version of the packs it ran with.
    """

    config: dict[str, Any]
    packs: dict[str, str]


def record_of(checkpoint: Mapping[str, Any], path: Path) -> Record:
    """The pegboard record of a loaded checkpoint.

    Args:
        checkpoint: A loaded checkpoint.
        path: Its file, for messages.

    Raises:
        ConfigError: The checkpoint was not written by ``pegboard train``.
    """
    stored = checkpoint.get(CHECKPOINT_KEY)
    if not isinstance(stored, Mapping) or not isinstance(stored.get("config"), Mapping):
        raise ConfigError(
            f"ckpt_path={path}: not a pegboard checkpoint (no '{CHECKPOINT_KEY}' record of "
            "the config); pass one written by pegboard train"
        )
    return Record(dict(stored["config"]), dict(stored.get("packs") or {}))


def pack_differences(recorded: Mapping[str, str], installed: Mapping[str, str]) -> list[str]:
    """One line per pack whose installed version differs from the recorded one.

    Args:
        recorded: The checkpoint's pack versions.
        installed: The versions active now.
    """
    lines = []
    for name in sorted(set(recorded) | set(installed)):
        was, now = recorded.get(name), installed.get(name)
        if was != now:
            lines.append(f"{name}: checkpoint {was or 'absent'}, installed {now or 'absent'}")
    return lines


def warn_pack_differences(record: Record, installed: Mapping[str, str], path: Path) -> list[str]:
    """Warn when the installed packs differ from those the checkpoint was trained with.

    Args:
        record: The checkpoint's record.
        installed: The versions active now (``pegboard.runtime.pack_versions()``).
        path: The checkpoint, for the message.

    Returns:
        The differences, one line each (empty when none).
    """
    differences = pack_differences(record.packs, installed)
    if differences:
        message = f"{path} was written with other pack versions: " + "; ".join(differences)
        log.warning(message)
        warnings.warn(message, stacklevel=2)
    return differences


def model_class(record: Record, path: Path, requested: str | None = None) -> Any:
    """The LightningModule subclass that the checkpoint's model config names.

    Any ``pytorch_lightning.LightningModule`` subclass that the allow-list admits
    (docs/model-contract.md); ``pegboard.Model`` is one of them.

    Args:
        record: The checkpoint's record.
        path: The checkpoint, for messages.
        requested: A ``_target_`` the user asked for explicitly (``model=...``); it must
            name the same class.

    Raises:
        ConfigError: The class cannot be imported, is not a LightningModule, or is not
            the requested one.
    """
    from pegboard.runner.contract import class_problem, lightning_package_problem
    from pegboard.targets import check_target

    target = str((record.config.get("model") or {}).get("_target_", ""))
    # A checkpoint is a file from anywhere: its class is held to the same allow-list as
    # config targets before anything is imported.
    check_target(target, "model._target_ (from the checkpoint)")
    module_name, _, name = target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(
            f"ckpt_path={path}: its model class {target!r} cannot be imported ({error}); "
            "install the pack that provides it"
        ) from error
    if class_problem(cls) is not None:
        raise ConfigError(
            lightning_package_problem(cls, f"ckpt_path={path}: its model config")
            or f"ckpt_path={path}: {target} is not a pegboard.Model subclass, nor any other "
            "pytorch_lightning.LightningModule"
        )
    if requested and requested != target:
        raise ConfigError(
            f"ckpt_path={path} holds a {target} model, but model= asks for {requested}; "
            "drop model= (the checkpoint names its model) or pass a checkpoint of that model"
        )
    return cls


__all__ = ["Record", "model_class", "pack_differences", "record_of", "warn_pack_differences"]
