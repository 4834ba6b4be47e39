"""A quiet CPU ``Trainer`` for tests: no logger, checkpoints, progress bar or summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def quiet_trainer(root: str | Path | None = None, **options: Any) -> Any:
    """Build a ``pytorch_lightning.Trainer`` on one CPU that writes and prints nothing.

    Args:
        root: ``default_root_dir``, for anything Lightning still writes.
        **options: Further ``Trainer`` arguments; they override the quiet defaults
            (``logger=CSVLogger(...)`` turns logging back on).
    """
    import pytorch_lightning as pl

    settings: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": root,
    }
    settings.update(options)
    return pl.Trainer(**settings)


__all__ = ["quiet_trainer"]
