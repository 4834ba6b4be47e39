"""scikit-learn's bundled 8x8 handwritten digits: real data that needs no download."""

from __future__ import annotations

from typing import Any

import torch

from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.decoded import Decoded

INPUT_SHAPE = (1, 8, 8)
CLASS_NAMES = [str(digit) for digit in range(10)]


class DigitsDataModule(ImageDataModule):
    """1,797 grey 8x8 digit images (UCI optdigits via scikit-learn), served as tensors.

    Pixels (0-16) are standardised with the training split's mean and standard deviation
    unless the config gives ``mean`` and ``std``. The data ships with scikit-learn and has
    no official test split: the seeded split cuts one.

    Args:
        test_fraction: Fraction of all samples held out for testing.
        **kwargs: See ``ImageDataModule`` (``batch_size``, ``val_fraction``, ``augment``...).
    """

    name = "digits"
    pixel_max = 16.0

    def __init__(self, test_fraction: float = 0.2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test_fraction = test_fraction

    @property
    def input_shape(self) -> tuple[int, ...]:
        return INPUT_SHAPE

    @property
    def num_classes(self) -> int:
        return len(CLASS_NAMES)

    @property
    def class_names(self) -> list[str]:
        return list(CLASS_NAMES)

    def decode(self) -> Decoded:
        from sklearn.datasets import load_digits

        digits = load_digits()
        pixels = torch.as_tensor(digits.images, dtype=torch.uint8).unsqueeze(1)
        labels = torch.as_tensor(digits.target, dtype=torch.long)
        return Decoded((pixels, labels), None, list(CLASS_NAMES))


__all__ = ["DigitsDataModule"]
