"""MNIST, Fashion-MNIST and Kuzushiji-MNIST: 28x28 grey images in IDX files.

The four IDX files of each dataset are read gzipped (as published) or unpacked.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from pegboard.errors import ConfigError
from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.decoded import Decoded
from pegboard_data_vision.download import Remote

# The IDX type byte -> element type (big-endian, as the format stores it).
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_SPLIT_FILES = (
    ("train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzipped when its name ends in ``.gz``) into an array.

    Args:
        path: The file.

    Raises:
        ConfigError: The file is not IDX or is shorter than its header says.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise ConfigError(f"{path} cannot be read: {error}") from error
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES:
        raise ConfigError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ConfigError(f"{path} is truncated: it ends inside its header ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    count = int(np.prod(dims))
    if len(data) < header + count * dtype.itemsize:
        raise ConfigError(f"{path} is truncated: its header announces {list(dims)} values")
    return np.frombuffer(data, dtype, count=count, offset=header).reshape(dims)


class IdxDataModule(ImageDataModule):
    """A dataset of four IDX files: train/test images and labels. See ``ImageDataModule``."""

    files = tuple(name for _, images, labels in _SPLIT_FILES for name in (images, labels))
    input_shape_: ClassVar[tuple[int, ...]] = (1, 28, 28)
    names: ClassVar[tuple[str, ...]] = ()

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input_shape_

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def class_names(self) -> list[str]:
        return list(self.names)

    def locate(self, name: str) -> Path | None:
        folder = self.folder()
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
        return None

    def describe_file(self, name: str) -> str:
        return f"{name}.gz (or unpacked: {name})"

    def decode(self) -> Decoded:
        splits = {}
        for split, image_file, label_file in _SPLIT_FILES:
            image_path, label_path = self.locate(image_file), self.locate(label_file)
            assert image_path is not None and label_path is not None  # ensure_files ran
            images = read_idx(image_path)
            labels = read_idx(label_path)
            if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
                raise ConfigError(
                    f"{image_path} holds {list(images.shape)} images but {label_path} "
                    f"{list(labels.shape)} labels; expected [n, h, w] and [n]"
                )
            if tuple(images.shape[1:]) != self.input_shape[1:]:
                raise ConfigError(
                    f"{image_path} holds {list(images.shape[1:])} images, "
                    f"not {list(self.input_shape[1:])}"
                )
            pixels = torch.from_numpy(images.astype(np.uint8)).unsqueeze(1)
            splits[split] = (pixels, torch.from_numpy(labels.astype(np.int64)))
        return Decoded(splits["train"], splits["test"], list(self.names))


def _remotes(bases: tuple[str, ...], md5s: tuple[str, ...]) -> tuple[Remote, ...]:
    return tuple(
        Remote(f"{name}.gz", md5, bases, provides=(name,))
        for name, md5 in zip(IdxDataModule.files, md5s, strict=True)
    )


class MNISTDataModule(IdxDataModule):
    """MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey."""

    name = "mnist"
    homepage = "https://yann.lecun.com/exdb/mnist/"
    names = tuple(str(digit) for digit in range(10))
    # torchvision's mirror first: the original site often refuses downloads.
    remotes = _remotes(
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"),
        (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    )


class FashionMNISTDataModule(IdxDataModule):
    """Fashion-MNIST: Zalando's 70,000 28x28 grey images of 10 kinds of clothing."""

    name = "fashion_mnist"
    homepage = "https://github.com/zalandoresearch/fashion-mnist"
    names = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
    remotes = _remotes(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    )


class KMNISTDataModule(IdxDataModule):
    """Kuzushiji-MNIST: 70,000 28x28 grey images of 10 cursive Japanese characters."""

    name = "kmnist"
    homepage = "https://github.com/rois-codh/kmnist"
    names = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
    remotes = _remotes(
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        (
            "bdb82020997e1d708af4cf47b453dcf7",
            "e144d726b3acfaa3e44228e80efcd344",
            "5c965bf0a639b31b8f53240b1b52f4d7",
            "7320c461ea6c1c855c0b718fb2a4b134",
        ),
    )


__all__ = [
    "FashionMNISTDataModule",
    "IdxDataModule",
    "KMNISTDataModule",
    "MNISTDataModule",
    "read_idx",
]
