"""A plain LightningModule, ported to pegboard with the changes docs/model-contract.md shows.

It is not a ``pegboard.Model``: pegboard trains, tests, predicts and exports any
``pytorch_lightning.LightningModule`` that keeps the model contract. The port changed:

* the import: ``pytorch_lightning``, not the unified ``lightning`` package;
* the constructor: plain sizes instead of a ready-built ``net``, which it now builds,
  so ``save_hyperparameters`` holds only values a checkpoint reloads safely;
* the optimizer and scheduler partials: left out of the hyperparameters, with defaults.

It keeps what it had: ``train/``, ``val/`` and ``test/`` metric names, no
``predict_step`` (pegboard calls ``forward`` on the inputs and turns the logits into
probabilities), no ``inference_network()`` (the whole module is exported).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from pytorch_lightning import LightningModule
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy


class MLP(nn.Module):
    """Flattened images through two hidden layers.

    Args:
        input_size: Values per image (28 * 28 for MNIST).
        hidden_size: Width of the hidden layers.
        num_classes: Number of classes.
    """

    def __init__(self, input_size: int = 784, hidden_size: int = 128, num_classes: int = 10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(input_size, hidden_size),
            nn.BatchNorm1d(hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LitClassifier(LightningModule):
    """Classifies images with an ``MLP``; logs loss and accuracy per stage.

    Args:
        input_size: Values per image: the network's input is fixed.
        hidden_size: Width of the hidden layers.
        optimizer: Builds the optimizer from the parameters (a config partial); Adam by
            default.
        scheduler: Builds an LR scheduler from the optimizer, or None.
        num_classes: Number of classes.
    """

    def __init__(
        self,
        input_size: int = 784,
        hidden_size: int = 128,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False, ignore=["optimizer", "scheduler"])
        self.net = MLP(input_size, hidden_size, num_classes)
        self.make_optimizer, self.make_scheduler = optimizer, scheduler
        self.criterion = nn.CrossEntropyLoss()
        # One mean and one accuracy per stage, so that each stage's epoch value is its own.
        self.losses = nn.ModuleDict({stage: MeanMetric() for stage in ("fit", "val", "test")})
        self.accuracies = nn.ModuleDict(
            {stage: MulticlassAccuracy(num_classes) for stage in ("fit", "val", "test")}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch: Any, stage: str, prefix: str) -> torch.Tensor:
        inputs, targets = batch
        logits = self(inputs)
        loss = self.criterion(logits, targets)
        self.losses[stage](loss)
        self.accuracies[stage](logits.argmax(dim=1), targets)
        self.log(f"{prefix}/loss", self.losses[stage], on_step=False, on_epoch=True)
        self.log(f"{prefix}/acc", self.accuracies[stage], on_step=False, on_epoch=True)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "fit", "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val", "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "test", "test")

    def configure_optimizers(self) -> Any:
        optimizer = (self.make_optimizer or torch.optim.Adam)(params=self.parameters())
        if self.make_scheduler is None:
            return optimizer
        scheduler = self.make_scheduler(optimizer=optimizer)
        lr_scheduler = {"scheduler": scheduler, "monitor": "val/loss"}
        return {"optimizer": optimizer, "lr_scheduler": lr_scheduler}
