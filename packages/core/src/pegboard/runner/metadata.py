"""What a run records about itself: the resolved config and the pack versions."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch

CHECKPOINT_KEY = "pegboard"


class RunMetadata(pl.Callback):
    """Store the resolved config and the pack versions inside every checkpoint.

    With them a checkpoint is self-contained: evaluating or exporting it needs no other
    file. Both are plain containers so that ``torch.load(weights_only=True)`` accepts them.

    The random-number state (torch's CPU generator and Python's ``random``) goes in too,
    and is put back when training resumes: dropout draws from it, and a resumed run
    must continue the same sequence to end with the same weights as an uninterrupted one.

    Args:
        config: The resolved run config as plain containers.
        packs: Distribution name to version of every active pack.
    """

    def __init__(self, config: Mapping[str, Any], packs: Mapping[str, str]) -> None:
        self.config = dict(config)
        self.packs = dict(packs)
        self._rng_to_restore: dict[str, Any] | None = None

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        version, state, gauss = random.getstate()
        checkpoint[CHECKPOINT_KEY] = {
            "config": self.config,
            "packs": self.packs,
            "rng": {
                "torch": torch.get_rng_state(),
                "python": [version, list(state), gauss],
            },
        }

    def on_load_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        self._rng_to_restore = (checkpoint.get(CHECKPOINT_KEY) or {}).get("rng")

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Restored here, not on load: the sanity check and dataloader set-up run between
        # the two, and the generator must be exactly as saved when the next batch trains.
        rng, self._rng_to_restore = self._rng_to_restore, None
        if rng:
            torch.set_rng_state(rng["torch"])
            version, state, gauss = rng["python"]
            random.setstate((version, tuple(state), gauss))


__all__ = ["CHECKPOINT_KEY", "RunMetadata"]
