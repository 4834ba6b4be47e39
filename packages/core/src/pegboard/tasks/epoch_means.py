"""Epoch means of a classifier's loss and accuracy, summed on the device."""

from __future__ import annotations

from typing import Any

import torch


class EpochMeans:
    """Sums of one stage's loss and correct predictions over the batches of an epoch.

    Lightning's ``self.log`` costs about as much as a small network's whole training
    step on a CPU (it moves its record of the metric to the device on every call), so
    the task sums here and logs the means once per epoch. The sums stay on the
    device: adding a batch never makes the host wait for the accelerator.

    Attributes:
        count: Samples summed so far.
    """

    def __init__(self) -> None:
        self.count = 0
        self._loss_sum: torch.Tensor | None = None
        self._correct: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget the sums."""
        self.count = 0
        self._loss_sum = self._correct = None

    def update(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Add one batch.

        Args:
            loss: The batch's mean loss.
            logits: Class logits ``(batch, num_classes)``.
            labels: Class indices ``(batch,)``.
        """
        size = len(labels)
        loss_sum = loss.detach().float() * size
        correct = (logits.detach().argmax(dim=1) == labels).sum()
        if self._loss_sum is None or self._correct is None:
            # Fresh tensors, not views of the graph: safe to add into in place.
            self._loss_sum, self._correct = loss_sum, correct
        else:
            self._loss_sum += loss_sum
            self._correct += correct
        self.count += size

    def means(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The mean loss and accuracy over the samples summed, or ``None`` before any."""
        if self._loss_sum is None or self._correct is None:
            return None
        return self._loss_sum / self.count, self._correct.float() / self.count

    def state_dict(self) -> dict[str, Any]:
        """The sums as plain numbers, for a checkpoint that loads with ``weights_only``."""
        return {
            "count": self.count,
            "loss_sum": 0.0 if self._loss_sum is None else float(self._loss_sum),
            "correct": 0 if self._correct is None else int(self._correct),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from sums saved by ``state_dict``.

        Args:
            state: What ``state_dict`` returned.
        """
        self.reset()
        if state["count"]:
            self.count = int(state["count"])
            self._loss_sum = torch.tensor(float(state["loss_sum"]))
            self._correct = torch.tensor(int(state["correct"]))


__all__ = ["EpochMeans"]
