"""A datamodule of random but learnable images, so model packs test without a data pack."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pegboard.datamodule import DataModule
from pegboard.loaders import TensorBatchLoader


class RandomImageDataModule(DataModule):
    """Gaussian noise around one fixed pattern per class: a model can learn it in a few steps.

    Args:
        input_shape: Shape of one image, ``(channels, height, width)``.
        num_classes: Number of classes.
        num_samples: Samples in each of the train, val and test splits.
        batch_size: Samples per batch.
        seed: Seeds the patterns and the noise.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 8, 8),
        num_classes: int = 10,
        num_samples: int = 64,
        batch_size: int = 16,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self._input_shape = tuple(int(d) for d in input_shape)
        self._num_classes = num_classes
        generator = torch.Generator().manual_seed(seed)
        patterns = torch.randn(num_classes, *self._input_shape, generator=generator)
        self.splits = {}
        for split in ("train", "val", "test"):
            targets = torch.arange(num_samples) % num_classes
            noise = 0.5 * torch.randn(num_samples, *self._input_shape, generator=generator)
            self.splits[split] = (patterns[targets] + noise, targets)
        self.batch_size = batch_size
        self.seed = seed

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self._input_shape

    @property
    def num_classes(self) -> int:
        return self._num_classes

    @property
    def class_names(self) -> list[str]:
        return [f"class_{index}" for index in range(self._num_classes)]

    def _loader(self, split: str) -> TensorBatchLoader:
        inputs, targets = self.splits[split]
        return TensorBatchLoader(
            inputs, targets, self.batch_size, shuffle=split == "train", seed=self.seed
        )

    def train_dataloader(self) -> TensorBatchLoader:
        return self._loader("train")

    def val_dataloader(self) -> TensorBatchLoader:
        return self._loader("val")

    def test_dataloader(self) -> TensorBatchLoader:
        return self._loader("test")

    def predict_dataloader(self) -> TensorBatchLoader:
        return self._loader("test")


__all__ = ["RandomImageDataModule"]
