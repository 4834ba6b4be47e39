"""``TargetScale``: a regression network's last step, from standardized to real units."""

from __future__ import annotations

from collections.abc import Sequence

import torch


class TargetScale(torch.nn.Module):
    """``outputs * std + mean``, per value; buffers, so checkpoints and exports carry them.

    Args:
        outputs: Values per sample.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(outputs))
        self.register_buffer("std", torch.ones(outputs))

    def set(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Take the training targets' statistics; a zero spread is treated as one.

        Args:
            mean: Per-value mean.
            std: Per-value standard deviation.
        """
        spread = torch.tensor([float(s) if float(s) > 0 else 1.0 for s in std])
        self.mean.copy_(torch.tensor([float(m) for m in mean]))
        self.std.copy_(spread)

    def forward(self, standardized: torch.Tensor) -> torch.Tensor:
        """Values in the data's units.

        Args:
            standardized: ``(batch, outputs)`` standardized values.
        """
        return standardized * self.std + self.mean

    def standardize(self, values: torch.Tensor) -> torch.Tensor:
        """The inverse of ``forward``.

        Args:
            values: ``(batch, outputs)`` values in the data's units.
        """
        return (values - self.mean) / self.std


__all__ = ["TargetScale"]
