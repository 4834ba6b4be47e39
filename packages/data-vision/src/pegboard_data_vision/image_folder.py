"""Any folder of class sub-folders of images, held in memory or streamed from disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from pegboard.errors import ConfigError
from pegboard.signature import extends
from pegboard_data_vision import folders
from pegboard_data_vision.base import Decoded, ImageDataModule
from pegboard_data_vision.splits import split_indices

_MODES = ("auto", "memory", "stream")
# Images decoded to estimate normalization statistics when streaming.
_STATS_SAMPLE = 512


def _why_not_a_dataset(root: Path) -> str:
    if root.is_dir():
        return "has no class sub-folders"
    return "is a file, not a folder" if root.exists() else "does not exist"


@extends
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
        self.extra_dirs = {"val": val_dir, "test": test_dir}
        self.mode = mode
        self.memory_limit_mb = memory_limit_mb
        self.num_workers = num_workers
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self.streaming = False
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
        if self._class_names is None:
            self._class_names = folders.list_classes(self.ensure_folder())
        return list(self._class_names)

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
                found,
                self.image_size,
                self.channels,
                Path(self.extra_dirs.get(split) or self.folder()),
            )
            for split, found in entries.items()
        }
        return Decoded(decoded["train"], decoded.get("test"), self.class_names, decoded.get("val"))

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        self.ensure_files()
        self.check_declared(*self.declared)
        entries = self._entries()
        total = sum(len(paths) for paths, _ in entries.values())
        decoded_mb = total * self.channels * self.image_size[0] * self.image_size[1] / 2**20
        self.streaming = self.mode == "stream" or (
            self.mode == "auto" and decoded_mb > self.memory_limit_mb
        )
        if not self.streaming:
            super().setup(stage)
            return
        readable = {
            split: folders.readable_entries(
                found, Path(self.extra_dirs.get(split) or self.folder())
            )
            for split, found in entries.items()
        }
        self.splits = self._split_entries(readable)
        mean, std = self.stats or self._sample_stats(self.splits["train"])
        self._use_stats(mean, std)

    def _split_entries(self, entries: dict[str, folders.Entries]) -> dict[str, folders.Entries]:
        paths, labels = entries["train"]
        fractions = tuple(
            self.val_fraction if split == "val" else self.test_fraction
            for split in ("val", "test")
            if split not in entries
        )
        order, *held_out = split_indices(len(paths), fractions, self.split_seed)
        parts = iter(held_out)
        result = {}
        for split in ("train", "val", "test"):
            if split in entries and split != "train":
                result[split] = entries[split]
                continue
            chosen = order if split == "train" else next(parts)
            result[split] = ([paths[i] for i in chosen], [labels[i] for i in chosen])
        return result

    def _sample_stats(self, train: folders.Entries) -> tuple[list[float], list[float]]:
        paths, labels = train
        generator = torch.Generator().manual_seed(self.split_seed)
        chosen = torch.randperm(len(paths), generator=generator)[:_STATS_SAMPLE].tolist()
        sample = ([paths[i] for i in chosen], [labels[i] for i in chosen])
        pixels, _ = folders.decode_entries(sample, self.image_size, self.channels, self.folder())
        return self.compute_stats((pixels, None))

    def _loader(self, split: str, shuffle: bool) -> Any:
        if not self.streaming:
            return super()._loader(split, shuffle)
        paths, labels = self.splits[split]
        return torch.utils.data.DataLoader(
            folders.FolderDataset(paths, labels, self.image_size, self.channels),
            batch_size=self.batch_size if split == "train" else self.eval_batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            # Workers outlive the epoch: no process start-up cost at every epoch.
            persistent_workers=self.num_workers > 0,
            collate_fn=folders.CollateNormalized(self.normalize),
            generator=torch.Generator().manual_seed(self.seed) if shuffle else None,
        )
