"""The datamodule's state in a checkpoint: class names and normalization, by Lightning's key.

Lightning saves ``datamodule.state_dict()`` under the datamodule's class name and puts
it back only into a datamodule of that class. pegboard reads it the same way: from the
checkpoint's own data class (for exports and sidecars), or into the datamodule an
``eval`` or ``predict`` built, after its ``setup``, as ``trainer.test(ckpt_path=...)``
would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl

from pegboard._compat import datamodule_state_key, saved_hyperparameters


def data_class(target: str) -> type | None:
    """The datamodule class a ``_target_`` names, or ``None`` when it does not import.

    Args:
        target: A dotted class path, already held to the allow-list.
    """
    from hydra.utils import get_class

    try:
        return get_class(target) if target else None
    except Exception:  # a pack that is gone: its state is simply not found
        return None


def saved_data_state(checkpoint: Mapping[str, Any], datamodule_class: type | None) -> dict:
    """What ``datamodule_class.state_dict()`` saved in ``checkpoint`` (empty when nothing).

    Args:
        checkpoint: A checkpoint read with ``weights_only=True``.
        datamodule_class: The class of the datamodule that trained it.
    """
    if datamodule_class is None:
        return {}
    state = checkpoint.get(datamodule_state_key(datamodule_class))
    return dict(state) if isinstance(state, Mapping) else {}


def normalization(
    checkpoint: Mapping[str, Any], state: Mapping[str, Any]
) -> dict[str, list[float]] | None:
    """Per-channel ``mean`` and ``std`` the model was trained with, when recorded.

    Args:
        checkpoint: The checkpoint.
        state: Its datamodule state (``saved_data_state``).
    """
    for source in (state, saved_hyperparameters(checkpoint, datamodule=True)):
        mean, std = source.get("mean"), source.get("std")
        if mean and std:
            return {"mean": [float(m) for m in mean], "std": [float(s) for s in std]}
    return None


class RestoreDataState(pl.Callback):
    """Put a checkpoint's datamodule state into the stage's datamodule after its ``setup``.

    Only into a datamodule of the class that saved it, as Lightning does on
    ``ckpt_path``: ``eval data=other`` tests on the other data's own statistics.

    Args:
        checkpoint: The checkpoint, read once by the stage.
    """

    def __init__(self, checkpoint: Mapping[str, Any]) -> None:
        self.checkpoint = checkpoint

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = getattr(trainer, "datamodule", None)
        if datamodule is None:
            return
        state = saved_data_state(self.checkpoint, type(datamodule))
        if state:
            datamodule.load_state_dict(state)


__all__ = ["RestoreDataState", "data_class", "normalization", "saved_data_state"]
