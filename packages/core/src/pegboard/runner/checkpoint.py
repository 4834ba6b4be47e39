"""Find, validate and read pegboard checkpoints: one place for every stage that takes one.

``ckpt_path`` may be a file, or ``last`` / ``best`` to pick from a training run (the one
named by ``run``, or the newest). Files are read with ``torch.load(weights_only=True)``:
a checkpoint holds tensors and plain values, never pickled code. A file that does not
load (truncated by a crash, corrupt) is named in a warning and skipped for the previous
one; when no file of the run loads, the stage stops with an error rather than silently
starting from scratch.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from pegboard.errors import ConfigError
from pegboard.runner.metadata import CHECKPOINT_KEY

log = logging.getLogger(__name__)

#: ``ckpt_path`` values that pick a checkpoint of a run instead of naming a file.
KEYWORDS = ("last", "best")
LAST_NAME = "last.ckpt"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write each checkpoint to a temporary file beside it, then rename it into place.

    ``os.replace`` is atomic on POSIX and Windows, so a crash or a kill mid-write leaves
    the previous file whole (and a stray temporary file), never a truncated checkpoint
    under the real name.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        """Save ``checkpoint`` to ``path`` atomically.

        Args:
            checkpoint: The state Lightning dumped.
            path: The final file name.
            storage_options: Not supported, as in ``TorchCheckpointIO``.
        """
        target = Path(path)
        if "://" in str(path):  # remote file systems: fsspec's own transaction
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                torch.save(checkpoint, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` onto the CPU.

    Args:
        path: The checkpoint file.

    Raises:
        ConfigError: The file is missing or does not load, naming it and why.
    """
    if not path.is_file():
        raise ConfigError(f"ckpt_path={path}: no such file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(
            f"ckpt_path={path}: not a readable checkpoint (truncated or corrupt?): {reason}"
        ) from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ConfigError(f"ckpt_path={path}: not a Lightning checkpoint (no state_dict)")
    return checkpoint


def _started(run: Path) -> float:
    try:
        return float(json.loads((run / "status.json").read_text())["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return run.stat().st_mtime


def run_checkpoints(run: Path) -> list[Path]:
    """A run's checkpoint files, newest first (``last.ckpt`` first among equals).

    Args:
        run: A run directory.
    """
    files = [p for p in (run / "checkpoints").glob("*.ckpt") if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name == LAST_NAME), reverse=True)


def find_run(runs_dir: Path, run: str | None, exclude: Path | None = None) -> Path:
    """The run directory named by ``run``, or the newest one that has checkpoints.

    Args:
        runs_dir: Where training runs live (``<log_dir>/train/runs``).
        run: A run directory, or a run's folder name under ``runs_dir``; ``None`` for
            the newest.
        exclude: A directory never to pick (the run being started).
    """
    if run:
        for candidate in (Path(run), runs_dir / run):
            if candidate.is_dir():
                return candidate
        raise ConfigError(f"run={run}: no such run directory (looked in {runs_dir} too)")
    skip = exclude.resolve() if exclude else None
    runs = [
        path
        for path in (runs_dir.iterdir() if runs_dir.is_dir() else [])
        if path.is_dir() and path.resolve() != skip and run_checkpoints(path)
    ]
    if not runs:
        raise ConfigError(
            f"ckpt_path needs a training run with checkpoints, and {runs_dir} has none; "
            "train first or give ckpt_path=/path/to/file.ckpt"
        )
    return max(runs, key=_started)


def newest_valid(candidates: list[Path]) -> tuple[Path, dict[str, Any]]:
    """The first checkpoint of ``candidates`` that loads, warning about each one skipped.

    Args:
        candidates: Checkpoint files in order of preference.

    Raises:
        ConfigError: None of them loads.
    """
    for path in candidates:
        try:
            return path, load_checkpoint(path)
        except ConfigError as error:
            message = f"skipping checkpoint {path}: {error}"
            log.warning(message)
            warnings.warn(message, stacklevel=2)
    listed = ", ".join(str(p) for p in candidates) or "none"
    raise ConfigError(f"no valid checkpoint to use: every candidate failed to load ({listed})")


def _best_first(files: list[Path]) -> list[Path]:
    # ModelCheckpoint names the best file epoch_NNN.ckpt; last.ckpt is the fallback.
    best = [p for p in files if p.name != LAST_NAME]
    return best + [p for p in files if p.name == LAST_NAME]


def resolve_checkpoint(
    ckpt_path: str | os.PathLike[str],
    runs_dir: Path,
    run: str | None = None,
    exclude: Path | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Turn a ``ckpt_path`` value into a loaded checkpoint.

    Args:
        ckpt_path: A file, or ``last`` (newest valid checkpoint of the run) or ``best``
            (the run's best checkpoint, falling back to the newest valid one).
        runs_dir: Where training runs live, for the keywords.
        run: The run the keywords pick from; ``None`` for the newest run.
        exclude: A run directory never to pick (the run being started).

    Returns:
        The file chosen and its contents.
    """
    value = str(ckpt_path)
    if value in KEYWORDS:
        run_dir = find_run(runs_dir, run, exclude)
        files = run_checkpoints(run_dir)
        if not files:
            raise ConfigError(f"run {run_dir} has no checkpoints in {run_dir / 'checkpoints'}")
        return newest_valid(_best_first(files) if value == "best" else files)
    return Path(value), load_checkpoint(Path(value))


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
    """The ``pegboard.Model`` subclass that the checkpoint's model config names.

    Args:
        record: The checkpoint's record.
        path: The checkpoint, for messages.
        requested: A ``_target_`` the user asked for explicitly (``model=...``); it must
            name the same class.

    Raises:
        ConfigError: The class cannot be imported, is not a ``pegboard.Model``, or is
            not the requested one.
    """
    from pegboard.model import Model
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
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ConfigError(f"ckpt_path={path}: {target} is not a pegboard.Model subclass")
    if requested and requested != target:
        raise ConfigError(
            f"ckpt_path={path} holds a {target} model, but model= asks for {requested}; "
            "drop model= (the checkpoint names its model) or pass a checkpoint of that model"
        )
    return cls


def data_state(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The datamodule state saved in a checkpoint (class names, normalization), if any.

    Lightning stores ``datamodule.state_dict()`` under the datamodule's class name.

    Args:
        checkpoint: A loaded checkpoint.
    """
    for value in checkpoint.values():
        # Hyperparameters may hold "mean": None; the state holds the values in use.
        if isinstance(value, Mapping) and (value.get("class_names") or value.get("mean")):
            return dict(value)
    return {}


def normalization(checkpoint: Mapping[str, Any]) -> dict[str, list[float]] | None:
    """Per-channel ``mean`` and ``std`` the model was trained with, when recorded.

    Args:
        checkpoint: A loaded checkpoint.
    """
    for source in (data_state(checkpoint), checkpoint.get("datamodule_hyper_parameters") or {}):
        mean, std = source.get("mean"), source.get("std")
        if mean and std:
            return {"mean": [float(m) for m in mean], "std": [float(s) for s in std]}
    return None
