"""Image-agnostic classification: cross-entropy, accuracy, class probabilities."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from pegboard.model import Model, OptimizerFactory, SchedulerFactory


class ClassificationModel(Model):
    """A ``Model`` that trains ``forward``'s logits against integer class targets.

    Subclasses only build ``self.net`` (or override ``forward``); this class supplies the
    steps, the loss and the metrics ``{train,val,test}/loss`` and ``{train,val,test}/acc``.

    Args:
        num_classes: Number of classes the logits cover.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``.
        optimizer: See ``pegboard.Model``.
        scheduler: See ``pegboard.Model``.
        scheduler_interval: See ``pegboard.Model``.
        scheduler_monitor: See ``pegboard.Model``.
    """

    net: torch.nn.Module

    def __init__(
        self,
        num_classes: int,
        label_smoothing: float = 0.0,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val/loss",
    ) -> None:
        super().__init__(optimizer, scheduler, scheduler_interval, scheduler_monitor)
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits of shape ``(batch, num_classes)``.

        Args:
            x: A batch of inputs.
        """
        return self.net(x)

    def _shared_step(self, batch: Any, stage: str) -> torch.Tensor:
        inputs, targets = batch
        logits = self(inputs)
        smoothing = self.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(logits, targets, label_smoothing=smoothing)
        accuracy = (logits.argmax(dim=1) == targets).float().mean()
        on_step = stage == "train"
        size = len(targets)
        self.log(f"{stage}/loss", loss, on_step=on_step, on_epoch=True, batch_size=size,
                 prog_bar=stage != "test")
        self.log(f"{stage}/acc", accuracy, on_step=False, on_epoch=True, batch_size=size,
                 prog_bar=stage != "train")
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """Cross-entropy of one batch; logs ``train/loss`` and ``train/acc``.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Logs ``val/loss`` and ``val/acc``.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        self._shared_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        """Logs ``test/loss`` and ``test/acc``.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        self._shared_step(batch, "test")

    def predict_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Class probabilities and the predicted class of each input.

        Args:
            batch: ``(inputs, targets)`` or bare inputs.
            batch_idx: Index of the batch.
        """
        inputs = batch[0] if isinstance(batch, list | tuple) else batch
        probabilities = self(inputs).softmax(dim=1)
        return {"probabilities": probabilities, "prediction": probabilities.argmax(dim=1)}
