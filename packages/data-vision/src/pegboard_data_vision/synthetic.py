"""Random images of any shape and class count, for benchmarks and smoke tests."""

from __future__ import annotations

from typing import Any

import torch

from pegboard.errors import ConfigError
from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.decoded import Decoded


class SyntheticDataModule(ImageDataModule):
    """uint8 images drawn around one random pattern per class: learnable, and instant.

    They go through the same pipeline as real data (normalization, batching,
    augmentation), so a benchmark on them measures the pipeline, not a file format. The
    images take the shape and class count that the config declares (``input_shape``,
    ``num_classes``), so any size is one override away.

    Args:
        train_size: Images in the training set (validation is cut from it).
        test_size: Images in the test set.
        noise: Standard deviation of the per-pixel noise, in pixel values (0-255).
        **kwargs: See ``ImageDataModule``; ``seed`` also seeds the images.
    """

    name = "synthetic"

    def __init__(
        self, train_size: int = 5000, test_size: int = 1000, noise: float = 48.0, **kwargs: Any
    ) -> None:
        shape = tuple(int(d) for d in kwargs.get("input_shape") or (3, 32, 32))
        if len(shape) != 3 or min(shape) < 1:
            raise ConfigError(f"data.input_shape={list(shape)}: use [channels, height, width]")
        classes = kwargs.get("num_classes") or 10
        if classes < 2 or train_size < 1 or test_size < 1:
            raise ConfigError("data.num_classes must be >= 2, data.train_size and test_size >= 1")
        self.image_shape = shape
        self.classes = classes
        self.sizes = (train_size, test_size)
        self.noise = noise
        super().__init__(**kwargs)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.image_shape

    @property
    def num_classes(self) -> int:
        return self.classes

    @property
    def class_names(self) -> list[str]:
        return [f"class_{index}" for index in range(self.classes)]

    def decode_options(self) -> dict[str, Any]:
        return {
            "shape": self.image_shape,
            "classes": self.classes,
            "sizes": self.sizes,
            "noise": self.noise,
            "seed": self.seed,
        }

    def decode(self) -> Decoded:
        generator = torch.Generator().manual_seed(self.seed)
        patterns = torch.rand(self.classes, *self.image_shape, generator=generator) * 255
        parts = []
        for size in self.sizes:
            labels = torch.randint(self.classes, (size,), generator=generator)
            pixels = torch.empty(size, *self.image_shape, dtype=torch.uint8)
            # In chunks: a float copy of a large benchmark set would not fit in memory.
            for start in range(0, size, 8192):
                chunk = labels[start : start + 8192]
                noise = torch.randn(len(chunk), *self.image_shape, generator=generator)
                values = patterns[chunk] + self.noise * noise
                pixels[start : start + len(chunk)] = values.clamp_(0, 255).to(torch.uint8)
            parts.append((pixels, labels))
        return Decoded(parts[0], parts[1], self.class_names)


__all__ = ["SyntheticDataModule"]
