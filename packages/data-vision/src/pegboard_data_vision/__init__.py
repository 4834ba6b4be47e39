"""Vision datasets for pegboard. Classes load lazily: importing the package stays cheap."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "BatchAugment": "pegboard_data_vision.augment",
    "CIFAR10DataModule": "pegboard_data_vision.cifar",
    "CIFAR100DataModule": "pegboard_data_vision.cifar",
    "DigitsDataModule": "pegboard_data_vision.digits",
    "FashionMNISTDataModule": "pegboard_data_vision.mnist",
    "ImageDataModule": "pegboard_data_vision.base",
    "ImageFolderDataModule": "pegboard_data_vision.image_folder",
    "KMNISTDataModule": "pegboard_data_vision.mnist",
    "MNISTDataModule": "pegboard_data_vision.mnist",
    "SVHNDataModule": "pegboard_data_vision.svhn",
    "SyntheticDataModule": "pegboard_data_vision.synthetic",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pegboard_data_vision' has no attribute {name!r}")
