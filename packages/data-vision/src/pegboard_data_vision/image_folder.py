"""Any folder of class sub-folders of images, held in memory or streamed from disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from pegboard.errors import ConfigError
from pegboard_data_vision import folders
from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.decoded import Decoded, Split

_MODES = ("auto", "memory", "stream")
# Images decoded to estimate normalization statistics when streaming.
_STATS_SAMPLE = 512


def _why_not_a_dataset(root: Path) -> str:
    if root.is_dir():
        return "has no class sub-folders"
    return "is a file, not a folder" if root.exists() else "does not exist"


class ImageFolderDataModule(ImageDataModule):
    """Images in ``data_dir/<class name>/...``, read with Pillow, resized to ``image_size``.

    Small folders are decoded once into a uint8 tensor (``mode=memory``, optionally cached
    on disk); large ones stream through ``DataLoader`` workers with pinned memory and
    persistent workers (``mode=stream``). ``auto`` picks memory when the decoded images fit
    in ``memory_limit_mb``. Validation and test images come from their own folders when
    given (same class sub-folders), else from seeded splits of ``data_dir``.

    Args:
        image_size: ``[height, width]`` every image is resized to.
        channels: 1 (grey) or 3 (RGB).
        val_dir: A separate folder of validation images, or ``None``.
        test_dir: A separate folder of test images, or ``None``.
        test_fraction: Fraction of ``data_dir`` held out for testing without ``test_dir``.
        mode: ``"auto"``, ``"memory"`` or ``"stream"``.
        memory_limit_mb: Largest decoded size ``auto`` keeps in memory.
        num_workers: Worker processes that decode images when streaming.
        pin_memory: Pin streamed batches for faster copies to the GPU (``None``: when CUDA
            is available).
        **kwargs: See ``ImageDataModule``.
    """

    name = "image_folder"
    homepage = "https://pillow.readthedocs.io/en/stable/handbook/image-file-formats.html"

    def __init__(
        self,
        image_size: Sequence[int] = (32, 32),
        channels: int = 3,
        val_dir: str | None = None,
        test_dir: str | None = None,
        test_fraction: float = 0.1,
        mode: str = "auto",
        memory_limit_mb: int = 2048,
        num_workers: int = 4,
        pin_memory: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if len(image_size) != 2 or min(image_size) < 1:
            raise ConfigError(f"data.image_size={list(image_size)}: use [height, width]")
        if channels not in (1, 3):
            raise ConfigError(f"data.channels={channels}: use 1 (grey) or 3 (RGB)")
        if mode not in _MODES:
            raise ConfigError(f"data.mode={mode!r}: use one of {', '.join(_MODES)}")
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.channels = channels
        self.extra_dirs: dict[str, str | None] = {"val": val_dir, "test": test_dir}
        self.mode = mode
        self.memory_limit_mb = memory_limit_mb
        self.num_workers = num_workers
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        #: Whether ``setup`` chose to stream (``mode``, ``memory_limit_mb``).
        self.streaming = False
        self._folder_classes: list[str] | None = None
        super().__init__(**kwargs)
        self.test_fraction = test_fraction

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.channels, *self.image_size)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def class_names(self) -> list[str]:
        # Listed once: the names index the labels, so they must not change within a run.
        if self._folder_classes is None:
            self._folder_classes = folders.list_classes(self.ensure_folder())
        return list(self._folder_classes)

    def check_early(self) -> None:
        # The classes are the sub-folders: count them now when the folder is already there.
        input_shape, num_classes = self.declared
        known = self.data_dir is not None and self.data_dir.is_dir()
        self.check_declared(input_shape, num_classes if known else None)

    def ensure_folder(self) -> Path:
        """The training folder; a clear error when it is missing or has no class folders."""
        root = self.folder()
        if not root.is_dir() or not folders.list_classes(root):
            raise ConfigError(
                f"data=image_folder: {root.resolve()} "
                f"{_why_not_a_dataset(root)}.\n"
                f"Expected {root}/<class name>/<image files> (any format Pillow reads); "
                "set data.data_dir to the folder, and data.num_classes to its class count."
            )
        return root

    def ensure_files(self, allow_download: bool = True) -> None:
        """Check the folders: your own images, so there is never anything to download.

        Args:
            allow_download: Unused: nothing is published for a folder of your images.
        """
        self.ensure_folder()
        for split, folder in self.extra_dirs.items():
            if folder is not None and not Path(folder).is_dir():
                raise ConfigError(f"data.{split}_dir={folder} is not a folder")

    def _entries(self) -> dict[str, folders.Entries]:
        names = self.class_names
        found = {"train": folders.index_folder(self.ensure_folder(), names)}
        for split, folder in self.extra_dirs.items():
            if folder is not None:
                found[split] = folders.index_folder(Path(folder), names)
        return found

    def source_files(self) -> list[Path]:
        return [path for paths, _ in self._entries().values() for path in paths]

    def decode_options(self) -> dict[str, Any]:
        return {"size": self.image_size, "channels": self.channels, **self.extra_dirs}

    def decode(self) -> Decoded:
        entries = self._entries()
        decoded = {
            split: folders.decode_entries(
                found, self.image_size, self.channels, self._split_folder(split)
            )
            for split, found in entries.items()
        }
        return Decoded(decoded["train"], decoded.get("test"), self.class_names, decoded.get("val"))

    def load_splits(self) -> Decoded:
        """Decode the images into memory when they fit (or ``mode`` says so), else index them.

        Streamed files are only checked here (Pillow's ``verify``, no decoding); the
        loader's workers decode them. See ``ImageDataModule.load_splits``.
        """
        # The classes are the sub-folders: refuse a wrong count before decoding any image.
        self.check_declared(*self.declared)
        entries = self._entries()
        total = sum(len(paths) for paths, _ in entries.values())
        decoded_mb = total * self.channels * self.image_size[0] * self.image_size[1] / 2**20
        self.streaming = self.mode == "stream" or (
            self.mode == "auto" and decoded_mb > self.memory_limit_mb
        )
        if not self.streaming:
            return super().load_splits()
        readable = {
            split: folders.readable_entries(found, self._split_folder(split))
            for split, found in entries.items()
        }
        return Decoded(
            readable["train"], readable.get("test"), self.class_names, readable.get("val")
        )

    def compute_stats(self, train: Split) -> tuple[list[float], list[float]]:
        """Statistics of the training images; estimated on a seeded sample when streaming.

        Args:
            train: The training split: pixels in memory, paths when streaming.
        """
        if not self.streaming:
            return super().compute_stats(train)
        # Decoding every streamed image would cost a whole epoch before the first step.
        paths, labels = train
        generator = torch.Generator().manual_seed(self.split_seed)
        chosen = torch.randperm(len(paths), generator=generator)[:_STATS_SAMPLE].tolist()
        sample = ([paths[i] for i in chosen], [labels[i] for i in chosen])
        pixels, _ = folders.decode_entries(sample, self.image_size, self.channels, self.folder())
        return super().compute_stats((pixels, None))

    def dataloader(self, split: str, shuffle: bool) -> Any:
        """Tensor batches from memory, or a ``DataLoader`` whose workers decode the files.

        Args:
            split: ``"train"``, ``"val"`` or ``"test"``.
            shuffle: Draw a new order every epoch (training only).
        """
        if not self.streaming:
            return super().dataloader(split, shuffle)
        assert self.normalize is not None, "setup() fixes the normalization"
        rank, world_size = self._rank()
        return folders.stream_loader(
            self.splits[split],
            self.image_size,
            self.channels,
            self.normalize,
            batch_size=self.batch_size if split == "train" else self.eval_batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            seed=self.seed,
            shard=(rank, world_size) if world_size > 1 and split != "train" else None,
        )

    def _split_folder(self, split: str) -> Path:
        return Path(self.extra_dirs.get(split) or self.folder())


__all__ = ["ImageFolderDataModule"]
