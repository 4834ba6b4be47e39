"""Per-epoch sums of a task's loss and metrics, kept on the device."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


class EpochSums:
    """Named sums over the batches of one stage's epoch, and the number of samples.

    Lightning's ``self.log`` costs about as much as a small network's whole training
    step on a CPU (it moves its record of the metric to the device on every call), so
    tasks sum here and log the means once per epoch. The sums stay on the device:
    adding a batch never makes the host wait for the accelerator. float64 where the
    device has it, so sums over many batches keep every digit.

    Args:
        names: One name per summed quantity (``loss_sum``, ``correct``...); the names
            are the keys of ``state_dict``.

    Attributes:
        count: Samples summed so far.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.count = 0
        self._sums: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget the sums."""
        self.count = 0
        self._sums = None

    def add(self, sums: torch.Tensor, size: int) -> None:
        """Add one batch.

        Args:
            sums: One value per name, already summed over the batch's samples.
            size: Samples in the batch.
        """
        wide = torch.float32 if sums.device.type == "mps" else torch.float64
        sums = sums.detach().to(wide)
        # A fresh tensor, not a view of the graph: safe to add into in place.
        self._sums = sums.clone() if self._sums is None else self._sums.add_(sums)
        self.count += size

    def totals(self, device: torch.device | None = None) -> torch.Tensor:
        """The sums followed by the count, as one float64 tensor (zeros before any batch).

        Under DDP the processes add their totals: a process whose shard is empty still
        takes part, with zeros.

        Args:
            device: Where the tensor goes when nothing was summed yet.
        """
        if self._sums is None:
            return torch.zeros(len(self.names) + 1, dtype=torch.float64, device=device)
        count = torch.tensor([float(self.count)], dtype=torch.float64, device=self._sums.device)
        return torch.cat([self._sums.to(torch.float64), count])

    def state_dict(self) -> dict[str, Any]:
        """The sums as plain numbers, for a checkpoint that loads with ``weights_only``."""
        values = [0.0] * len(self.names) if self._sums is None else self._sums.tolist()
        return {"count": self.count, **dict(zip(self.names, values, strict=True))}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from sums saved by ``state_dict``.

        Args:
            state: What ``state_dict`` returned.
        """
        self.reset()
        if state.get("count"):
            self.count = int(state["count"])
            values = [float(state.get(name, 0.0)) for name in self.names]
            self._sums = torch.tensor(values, dtype=torch.float64)


__all__ = ["EpochSums"]
