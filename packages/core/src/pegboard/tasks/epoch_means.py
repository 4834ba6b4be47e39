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
        # float64 where the device has it: sums over many batches keep every digit.
        wide = torch.float32 if loss.device.type == "mps" else torch.float64
        loss_sum = loss.detach().to(wide) * size
        correct = (logits.detach().argmax(dim=1) == labels).sum()
        if self._loss_sum is None or self._correct is None:
            # Fresh tensors, not views of the graph: safe to add into in place.
            self._loss_sum, self._correct = loss_sum, correct
        else:
            self._loss_sum += loss_sum
            self._correct += correct
        self.count += size

    def totals(self, device: torch.device | None = None) -> torch.Tensor:
        """``[loss sum, correct, count]`` as one float64 tensor (zeros before any batch).

        Under DDP the processes add their totals (``LightningModule.all_gather``): a
        process whose shard is empty still takes part, with zeros.

        Args:
            device: Where the tensor goes when nothing was summed yet.
        """
        if self._loss_sum is None or self._correct is None:
            return torch.zeros(3, dtype=torch.float64, device=device)
        return torch.stack(
            [
                self._loss_sum.to(torch.float64),
                self._correct.to(torch.float64),
                torch.tensor(float(self.count), dtype=torch.float64, device=self._loss_sum.device),
            ]
        )

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
