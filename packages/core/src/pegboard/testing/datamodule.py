"""Random but learnable data (images with classes, or values), so packs test on their own."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from pegboard.datamodule import DataModule
from pegboard.loaders import TensorBatchLoader
from pegboard.supervision import Values


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


class RandomValuesDataModule(RandomImageDataModule):
    """Values that are a fixed linear function of the inputs plus noise: a regression.

    Targets are ``(batch, num_outputs)`` floats around a mean of 50 and a spread of 10,
    so a model that ignores the target scale shows it.

    Args:
        input_shape: Shape of one input.
        num_outputs: Values per sample.
        num_samples: Samples in each of the train, val and test splits.
        batch_size: Samples per batch.
        seed: Seeds the weights and the noise.
        task: The declared task; only ``regression`` is right.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (8,),
        num_outputs: int = 1,
        num_samples: int = 64,
        batch_size: int = 16,
        seed: int = 0,
        task: str = "regression",
    ) -> None:
        if task != "regression":
            raise ValueError(f"task={task!r}: RandomValuesDataModule's targets are values")
        super().__init__(input_shape, 2, num_samples, batch_size, seed)
        generator = torch.Generator().manual_seed(seed + 1)
        features = math.prod(self._input_shape)
        weights = torch.randn(features, num_outputs, generator=generator) / features**0.5
        for split in ("train", "val", "test"):
            inputs = torch.randn(num_samples, *self._input_shape, generator=generator)
            noise = 0.1 * torch.randn(num_samples, num_outputs, generator=generator)
            self.splits[split] = (inputs, 50.0 + 10.0 * (inputs.flatten(1) @ weights + noise))
        self._num_outputs = num_outputs

    @property
    def target(self) -> Values:
        """``num_outputs`` values, with the training split's mean and spread."""
        train = self.splits["train"][1]
        return Values(
            self._num_outputs,
            mean=tuple(train.mean(dim=0).tolist()),
            std=tuple(train.std(dim=0).tolist()),
        )

    @property
    def num_classes(self) -> int:
        """Values have no classes."""
        raise AttributeError("RandomValuesDataModule has values as targets, not classes")

    @property
    def class_names(self) -> list[str]:
        """Values have no classes."""
        raise AttributeError("RandomValuesDataModule has values as targets, not classes")


__all__ = ["RandomImageDataModule", "RandomValuesDataModule"]
