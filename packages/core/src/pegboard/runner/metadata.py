"""What a run records about itself: the resolved config and the pack versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl

CHECKPOINT_KEY = "pegboard"


class RunMetadata(pl.Callback):
    """Store the resolved config and the pack versions inside every checkpoint.

    With them a checkpoint is self-contained: evaluating or exporting it needs no other
    file. Both are plain containers so that ``torch.load(weights_only=True)`` accepts them.

    Args:
        config: The resolved run config as plain containers.
        packs: Distribution name to version of every active pack.
    """

    def __init__(self, config: Mapping[str, Any], packs: Mapping[str, str]) -> None:
        self.config = dict(config)
        self.packs = dict(packs)

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[CHECKPOINT_KEY] = {"config": self.config, "packs": self.packs}
