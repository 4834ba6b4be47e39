"""CIFAR-10 and CIFAR-100: 32x32 colour images in the "python version" pickle batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from pegboard.errors import ConfigError
from pegboard.safe_pickle import load_data_pickle
from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.decoded import Decoded
from pegboard_data_vision.download import Remote

_URLS = ("https://www.cs.toronto.edu/~kriz/",)
_HOMEPAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
_CIFAR10_TRAIN = tuple(f"data_batch_{index}" for index in range(1, 6))
_CIFAR10_FILES = tuple(
    f"cifar-10-batches-py/{name}" for name in (*_CIFAR10_TRAIN, "test_batch", "batches.meta")
)
_CIFAR100_FILES = tuple(f"cifar-100-python/{name}" for name in ("train", "test", "meta"))


def read_batch(path: Path) -> dict[str, Any]:
    """Unpickle one CIFAR batch (keys as ``str``: ``data``, ``labels``...).

    The batches are pickles, which can run code when loaded; they are read with
    ``pegboard.safe_pickle``, which accepts plain values and numpy arrays only, so a
    tampered download is refused naming the file instead of running anything.

    Args:
        path: A batch file such as ``data_batch_1``.
    """
    batch = load_data_pickle(path, encoding="latin1", kind="CIFAR batch")
    if not isinstance(batch, dict):
        raise ConfigError(f"{path} is not a readable CIFAR batch: it holds no dictionary")
    return batch


def _images(batch: dict[str, Any], path: Path) -> torch.Tensor:
    if "data" not in batch:
        keys = ", ".join(sorted(map(str, batch))) or "none"
        raise ConfigError(f"{path} has no 'data' entry (it has: {keys}); not a CIFAR batch")
    data = np.asarray(batch["data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ConfigError(f"{path}: 'data' is {list(data.shape)}, expected [n, 3072]")
    # Rows are stored channel-major (1024 red, 1024 green, 1024 blue): already CHW.
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())


class _CifarBase(ImageDataModule):
    folder_name = ""
    train_files: tuple[str, ...] = ()
    test_file = "test_batch"
    meta_file = ""

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (3, 32, 32)

    def _read(self, names: tuple[str, ...], label_key: str) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = [], []
        for name in names:
            path = self.folder() / self.folder_name / name
            batch = read_batch(path)
            if label_key not in batch:
                raise ConfigError(f"{path} has no {label_key!r} entry")
            images.append(_images(batch, path))
            labels.append(torch.as_tensor(batch[label_key], dtype=torch.long))
        return torch.cat(images), torch.cat(labels)

    def _names(self, key: str, fallback: list[str]) -> list[str]:
        path = self.folder() / self.folder_name / self.meta_file
        names = read_batch(path).get(key) if path.is_file() else None
        return [str(name) for name in names] if names else fallback


class CIFAR10DataModule(_CifarBase):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""

    name = "cifar10"
    homepage = _HOMEPAGE
    folder_name = "cifar-10-batches-py"
    train_files = _CIFAR10_TRAIN
    meta_file = "batches.meta"
    files = _CIFAR10_FILES
    remotes = (
        Remote(
            "cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
            _URLS,
            extract=True,
            provides=_CIFAR10_FILES,
        ),
    )
    names = (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    )

    @property
    def num_classes(self) -> int:
        return 10

    @property
    def class_names(self) -> list[str]:
        return list(self._class_names or self.names)

    def decode(self) -> Decoded:
        return Decoded(
            self._read(self.train_files, "labels"),
            self._read((self.test_file,), "labels"),
            self._names("label_names", list(self.names)),
        )


class CIFAR100DataModule(_CifarBase):
    """CIFAR-100: 60,000 32x32 colour images, 100 fine classes grouped into 20 coarse ones.

    Args:
        labels: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses; set
            ``data.num_classes=20`` with it).
        **kwargs: See ``ImageDataModule``.
    """

    name = "cifar100"
    homepage = _HOMEPAGE
    folder_name = "cifar-100-python"
    train_files = ("train",)
    test_file = "test"
    meta_file = "meta"
    files = _CIFAR100_FILES
    remotes = (
        Remote(
            "cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
            _URLS,
            extract=True,
            provides=_CIFAR100_FILES,
        ),
    )

    def __init__(self, labels: str = "fine", **kwargs: Any) -> None:
        if labels not in ("fine", "coarse"):
            raise ConfigError(f"data.labels={labels!r}: use 'fine' or 'coarse'")
        self.labels = labels
        super().__init__(**kwargs)

    @property
    def num_classes(self) -> int:
        return 100 if self.labels == "fine" else 20

    @property
    def class_names(self) -> list[str]:
        if self._class_names is None:
            return [f"{self.labels}_{index}" for index in range(self.num_classes)]
        return list(self._class_names)

    def decode_options(self) -> dict[str, Any]:
        return {"labels": self.labels}

    def decode(self) -> Decoded:
        key = f"{self.labels}_labels"
        fallback = [f"{self.labels}_{index}" for index in range(self.num_classes)]
        return Decoded(
            self._read(self.train_files, key),
            self._read((self.test_file,), key),
            self._names(f"{self.labels}_label_names", fallback),
        )


__all__ = ["CIFAR10DataModule", "CIFAR100DataModule", "read_batch"]
