"""Folders of class sub-folders of images: indexing, decoding with Pillow, streaming.

Unreadable files (broken images, stray text files) are found when the folder is indexed
and skipped with one warning that lists them by path, so a run never stops mid-epoch on a
bad file. A file that passes the check but fails to decode later (a truncated JPEG) is
reported and replaced by the next readable image of the split.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pegboard.errors import ConfigError
from pegboard.loaders import UnpaddedDistributedSampler

log = logging.getLogger(__name__)

Entries = tuple[list[Path], list[int]]


def list_classes(root: Path) -> list[str]:
    """Sorted names of the class sub-folders of ``root`` (hidden folders ignored).

    Args:
        root: A folder of class sub-folders.
    """
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def index_folder(root: Path, class_names: Sequence[str]) -> Entries:
    """Every non-hidden file below each class sub-folder, with its class index.

    Args:
        root: A folder of class sub-folders.
        class_names: The classes, in index order (from the training folder).

    Raises:
        ConfigError: ``root`` holds a class that the training folder does not.
    """
    index = {name: number for number, name in enumerate(class_names)}
    paths: list[Path] = []
    labels: list[int] = []
    for name in list_classes(root):
        if name not in index:
            raise ConfigError(
                f"{root / name} is a class the training folder does not have; "
                f"classes are: {', '.join(class_names)}"
            )
        for path in sorted((root / name).rglob("*")):
            if path.is_file() and not any(part.startswith(".") for part in path.parts[-2:]):
                paths.append(path)
                labels.append(index[name])
    return paths, labels


def load_image(path: Path, size: Sequence[int], channels: int) -> np.ndarray:
    """Decode one image to uint8 ``(channels, height, width)``, resized to ``size``.

    Args:
        path: The image file.
        size: ``(height, width)``.
        channels: 1 (grey) or 3 (RGB).
    """
    from PIL import Image

    with Image.open(path) as opened:
        image = opened.convert("L" if channels == 1 else "RGB")
        height, width = size
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR)
        array = np.array(image, dtype=np.uint8)  # a writable copy, for torch.from_numpy
    return array[None] if channels == 1 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _verify(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.verify()


def _threads() -> int:
    return min(8, os.cpu_count() or 1)


def _attempt(work: Callable[[Path], Any], paths: Sequence[Path]) -> list[Any]:
    """Run ``work`` on every path in threads (Pillow releases the GIL while decoding)."""

    def guarded(path: Path) -> Any:
        try:
            return work(path)
        except Exception as error:
            return error

    with ThreadPoolExecutor(_threads()) as pool:
        return list(pool.map(guarded, paths))


def report_broken(broken: Sequence[tuple[Path, BaseException]], where: Path) -> None:
    """Warn once, listing every skipped file by path with the reason.

    Args:
        broken: ``(path, error)`` pairs.
        where: The folder they were found in.
    """
    if broken:
        lines = "\n".join(f"  {path}: {error}" for path, error in broken)
        log.warning("Skipped %d unreadable file(s) in %s:\n%s", len(broken), where, lines)


def decode_entries(
    entries: Entries, size: Sequence[int], channels: int, where: Path
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode every readable image into one uint8 tensor; report and drop the rest.

    Args:
        entries: Paths and labels from ``index_folder``.
        size: ``(height, width)``.
        channels: 1 or 3.
        where: The folder, for the report.
    """
    paths, labels = entries
    results = _attempt(lambda path: load_image(path, size, channels), paths)
    pixels = torch.empty(len(paths), channels, *size, dtype=torch.uint8)
    kept: list[int] = []
    broken = []
    for number, (path, result) in enumerate(zip(paths, results, strict=True)):
        if isinstance(result, BaseException):
            broken.append((path, result))
        else:
            pixels[len(kept)] = torch.from_numpy(result)
            kept.append(number)
    report_broken(broken, where)
    return pixels[: len(kept)], torch.tensor([labels[i] for i in kept], dtype=torch.long)


def readable_entries(entries: Entries, where: Path) -> Entries:
    """Drop (and report) files that Pillow cannot identify and verify, without decoding.

    Args:
        entries: Paths and labels from ``index_folder``.
        where: The folder, for the report.
    """
    paths, labels = entries
    results = _attempt(_verify, paths)
    broken = [(p, r) for p, r in zip(paths, results, strict=True) if isinstance(r, BaseException)]
    report_broken(broken, where)
    keep = [i for i, result in enumerate(results) if not isinstance(result, BaseException)]
    return [paths[i] for i in keep], [labels[i] for i in keep]


class FolderDataset(torch.utils.data.Dataset):
    """Decodes one image per item, for ``DataLoader`` workers.

    Args:
        paths: Image files.
        labels: Their class indices.
        size: ``(height, width)``.
        channels: 1 or 3.
    """

    def __init__(
        self, paths: Sequence[Path], labels: Sequence[int], size: Sequence[int], channels: int
    ) -> None:
        self.paths = list(paths)
        self.labels = list(labels)
        self.size = tuple(size)
        self.channels = channels
        self.reported: set[Path] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        for offset in range(len(self.paths)):
            current = (index + offset) % len(self.paths)
            path = self.paths[current]
            try:
                pixels = load_image(path, self.size, self.channels)
            except Exception as error:
                if path not in self.reported:
                    self.reported.add(path)
                    log.warning("Skipping unreadable image %s: %s", path, error)
                continue
            return torch.from_numpy(pixels), self.labels[current]
        raise RuntimeError("no image of this split can be decoded")


class CollateNormalized:
    """Collate ``(pixels, label)`` items into one normalized float batch (in the worker).

    Args:
        normalize: Converts a uint8 batch to model inputs.
    """

    def __init__(self, normalize: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.normalize = normalize

    def __call__(self, items: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = torch.stack([pixels for pixels, _ in items])
        labels = torch.tensor([label for _, label in items], dtype=torch.long)
        return self.normalize(pixels), labels


def stream_loader(
    entries: Entries,
    size: Sequence[int],
    channels: int,
    normalize: Callable[[torch.Tensor], torch.Tensor],
    *,
    batch_size: int,
    shuffle: bool,
    num_workers: int,
    pin_memory: bool,
    seed: int,
    shard: tuple[int, int] | None = None,
) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` whose workers decode, collate and normalize the images of a split.

    Args:
        entries: Paths and labels of the split.
        size: ``(height, width)``.
        channels: 1 or 3.
        normalize: Converts a uint8 batch to model inputs (in the workers).
        batch_size: Images per batch.
        shuffle: Draw a new order every epoch, seeded with ``seed``.
        num_workers: Worker processes (0: decode in the main process).
        pin_memory: Pin batches for faster copies to the GPU.
        seed: Seeds the shuffling.
        shard: ``(rank, world_size)`` to read only this process's share of an evaluation
            split, each image once (Lightning's own sampler would repeat some).
    """
    paths, labels = entries
    dataset = FolderDataset(paths, labels, size, channels)
    sampler = UnpaddedDistributedSampler(dataset, *shard) if shard else None
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=pin_memory,
        # Workers outlive the epoch: no process start-up cost at every epoch.
        persistent_workers=num_workers > 0,
        collate_fn=CollateNormalized(normalize),
        generator=torch.Generator().manual_seed(seed) if shuffle else None,
    )


__all__ = [
    "Entries",
    "decode_entries",
    "index_folder",
    "list_classes",
    "readable_entries",
    "stream_loader",
]
