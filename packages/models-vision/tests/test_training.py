"""Every native model learns: the training loss falls within a few steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from conftest import NATIVE

from pegboard.testing import quiet_trainer
from pegboard.testing.datamodule import RandomImageDataModule


class LossRecorder(pl.Callback):
    """Collects the loss of every training step."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self.losses.append(float(outputs["loss"]))


@pytest.mark.parametrize("option", NATIVE)
def test_loss_falls_after_a_few_steps(option: str, build_model: Callable[..., Any]) -> None:
    torch.manual_seed(0)
    model = build_model(option)
    # One batch of 32 digit-shaped images, seen again at every step.
    data = RandomImageDataModule((1, 8, 8), 10, num_samples=32, batch_size=32, seed=0)
    recorder = LossRecorder()
    trainer = quiet_trainer(max_steps=6, limit_val_batches=0, callbacks=[recorder])
    trainer.fit(model, datamodule=data)
    first, last = recorder.losses[0], recorder.losses[-1]
    assert last < first, f"model={option}: loss {first:.3f} -> {last:.3f} in 6 steps"
