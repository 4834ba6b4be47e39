"""scikit-learn's bundled 8x8 handwritten digits: real data that needs no download."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pegboard.datamodule import DataModule
from pegboard.loaders import TensorBatchLoader
from pegboard_data_vision.splits import split_indices

INPUT_SHAPE = (1, 8, 8)
CLASS_NAMES = [str(digit) for digit in range(10)]


class DigitsDataModule(DataModule):
    """1,797 grey 8x8 digit images (UCI optdigits via scikit-learn), served as tensors.

    Pixels (0-16) are scaled to [0, 1] and standardised with the training split's
    mean and standard deviation. The split is seeded and independent of the training seed.

    Args:
        batch_size: Samples per batch.
        val_fraction: Fraction of all samples held out for validation.
        test_fraction: Fraction of all samples held out for testing.
        split_seed: Seeds the split.
        seed: Seeds the per-epoch shuffling of the training batches.
        input_shape: Must be ``[1, 8, 8]``; stated so model configs can interpolate it.
        num_classes: Must be 10; stated so model configs can interpolate it.
    """

    def __init__(
        self,
        batch_size: int = 64,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        seed: int = 0,
        input_shape: Sequence[int] = INPUT_SHAPE,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.check_declared(input_shape, num_classes)
        self.batch_size = batch_size
        self.fractions = (val_fraction, test_fraction)
        self.split_seed = split_seed
        self.seed = seed
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def input_shape(self) -> tuple[int, ...]:
        return INPUT_SHAPE

    @property
    def num_classes(self) -> int:
        return len(CLASS_NAMES)

    @property
    def class_names(self) -> list[str]:
        return list(CLASS_NAMES)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
        labels = torch.as_tensor(digits.target, dtype=torch.long)
        train, val, test = split_indices(len(labels), self.fractions, self.split_seed)
        mean, std = images[train].mean(), images[train].std()
        images = (images - mean) / std
        for name, indices in (("train", train), ("val", val), ("test", test)):
            self.splits[name] = (images[indices].contiguous(), labels[indices])

    def _loader(self, split: str, shuffle: bool) -> TensorBatchLoader:
        inputs, targets = self.splits[split]
        trainer = self.trainer
        return TensorBatchLoader(
            inputs,
            targets,
            self.batch_size,
            shuffle=shuffle,
            seed=self.seed,
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
        )

    def train_dataloader(self) -> TensorBatchLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> TensorBatchLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> TensorBatchLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> TensorBatchLoader:
        return self._loader("test", shuffle=False)
