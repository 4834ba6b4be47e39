"""Checkpoint files: written atomically, read with ``weights_only=True``.

A checkpoint holds tensors and plain values, never pickled code; a file that does not
load (truncated by a crash, corrupt) is reported naming it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins import TorchCheckpointIO

from pegboard._compat import STATE_DICT_KEY
from pegboard.errors import ConfigError


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
        # mkstemp creates 0600; a checkpoint gets the mode any new file gets here.
        os.fchmod(handle, 0o666 & ~_umask())
        try:
            with os.fdopen(handle, "wb") as file:
                torch.save(checkpoint, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise


def _umask() -> int:
    current = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(current)
    return current


def remove_partial_writes(folder: Path) -> list[Path]:
    """Delete the temporary files that killed checkpoint writes left in ``folder``.

    Call it only for a folder no live process writes to (a run that ended or crashed).

    Args:
        folder: A ``checkpoints`` folder.

    Returns:
        The files removed.
    """
    removed = []
    for path in folder.glob(".*.ckpt.*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


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
    if not isinstance(checkpoint, dict) or STATE_DICT_KEY not in checkpoint:
        raise ConfigError(f"ckpt_path={path}: not a Lightning checkpoint (no state_dict)")
    return checkpoint


__all__ = ["AtomicCheckpointIO", "load_checkpoint", "remove_partial_writes"]
