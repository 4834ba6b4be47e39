"""SVHN: 32x32 colour crops of house numbers from Street View, in MATLAB .mat files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pegboard.errors import ConfigError
from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.decoded import Decoded
from pegboard_data_vision.download import Remote

_URLS = ("http://ufldl.stanford.edu/housenumbers/",)


def read_mat(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(n, 3, 32, 32)`` uint8 and labels 0-9 from an SVHN ``*_32x32.mat`` file.

    SVHN labels the digit 0 as 10; it becomes 0 here so that class ``k`` is digit ``k``.

    Args:
        path: The .mat file.
    """
    from scipy.io import loadmat  # scipy is heavy and only SVHN needs it

    try:
        content = loadmat(path, variable_names=("X", "y"))
    except Exception as error:
        raise ConfigError(f"{path} is not a readable SVHN .mat file: {error}") from error
    if "X" not in content or "y" not in content:
        raise ConfigError(f"{path} lacks the 'X' and 'y' variables of SVHN")
    images, labels = content["X"], content["y"].reshape(-1).astype(np.int64)
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3) or images.shape[3] != len(labels):
        raise ConfigError(f"{path}: X is {list(images.shape)}, expected [32, 32, 3, n]")
    labels[labels == 10] = 0
    # Stored height, width, channel, sample: move the sample axis first, channels second.
    pixels = np.ascontiguousarray(images.transpose(3, 2, 0, 1), dtype=np.uint8)
    return torch.from_numpy(pixels), torch.from_numpy(labels)


class SVHNDataModule(ImageDataModule):
    """SVHN cropped digits: 73,257 training and 26,032 test 32x32 colour images."""

    name = "svhn"
    homepage = "http://ufldl.stanford.edu/housenumbers/"
    files = ("train_32x32.mat", "test_32x32.mat")
    remotes = (
        Remote("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373", _URLS),
        Remote("test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3", _URLS),
    )

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (3, 32, 32)

    @property
    def num_classes(self) -> int:
        return 10

    @property
    def class_names(self) -> list[str]:
        return [str(digit) for digit in range(10)]

    def decode(self) -> Decoded:
        folder = self.folder()
        return Decoded(
            read_mat(folder / self.files[0]), read_mat(folder / self.files[1]), self.class_names
        )


__all__ = ["SVHNDataModule", "read_mat"]
