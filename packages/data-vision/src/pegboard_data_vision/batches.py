"""Turn stored pixels into normalized float batches, one vectorised operation per batch.

Datasets are kept as their raw integer pixels (uint8: a quarter of float32's memory) and
converted batch by batch, both by the in-memory loader and by the collate function of the
streaming loader, so every pipeline yields the same float batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch

from pegboard.loaders import TensorBatchLoader


class Normalize:
    """``(pixels / pixel_max - mean) / std`` per channel, as one multiply-add per batch.

    Args:
        mean: Per-channel mean in ``[0, 1]`` units (one value broadcasts to every channel).
        std: Per-channel standard deviation in ``[0, 1]`` units.
        pixel_max: The stored value of a full-intensity pixel (255 for uint8 images).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], pixel_max: float) -> None:
        self.mean = [float(m) for m in mean]
        self.std = [float(s) for s in std]
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std must be positive, got {self.std}")
        self.scale = torch.tensor([1.0 / (pixel_max * s) for s in self.std]).view(1, -1, 1, 1)
        self.shift = torch.tensor([-m / s for m, s in zip(self.mean, self.std, strict=True)]).view(
            1, -1, 1, 1
        )

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        """Normalize a batch ``(batch, channels, height, width)`` of stored pixels.

        Args:
            pixels: Stored pixel values of any numeric dtype.
        """
        # In place on the fresh float copy: broadcasting out-of-place ops are several times
        # slower on CPU for a (1, c, 1, 1) operand.
        return pixels.float().mul_(self.scale).add_(self.shift)


def channel_stats(pixels: torch.Tensor, pixel_max: float) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of images, in ``[0, 1]`` units.

    Computed in chunks in float64 so a large uint8 dataset never needs a float copy.

    Args:
        pixels: Images ``(n, channels, height, width)``.
        pixel_max: The stored value of a full-intensity pixel.
    """
    channels = pixels.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    for chunk in torch.split(pixels, 4096):
        values = chunk.to(torch.float64).transpose(0, 1).reshape(channels, -1) / pixel_max
        total += values.sum(dim=1)
        squares += (values * values).sum(dim=1)
    count = pixels.numel() / channels
    mean = total / count
    std = (squares / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.tolist(), std.tolist()


class NormalizedBatchLoader(TensorBatchLoader):
    """A ``TensorBatchLoader`` over stored pixels that yields normalized float batches.

    Args:
        inputs: Stored pixels ``(n, channels, height, width)``.
        targets: Class indices ``(n,)``.
        normalize: Converts a batch of pixels to model inputs.
        **kwargs: Passed to ``TensorBatchLoader`` (batch size, shuffling, rank...).
    """

    def __init__(
        self, inputs: torch.Tensor, targets: torch.Tensor, normalize: Normalize, **kwargs: Any
    ) -> None:
        super().__init__(inputs, targets, **kwargs)
        self.normalize = normalize

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for pixels, targets in super().__iter__():
            yield self.normalize(pixels), targets


__all__ = ["Normalize", "NormalizedBatchLoader", "channel_stats"]
