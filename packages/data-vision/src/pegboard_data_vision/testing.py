"""Small dataset files in each real format, for tests (this pack's and other projects').

Each writer produces the exact layout that the matching datamodule reads and the official
distribution uses, filled with random pixels and labels, so tests exercise the real
readers without downloading anything.
"""

from __future__ import annotations

import gzip
import pickle
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file.

    Args:
        array: Any shape, dtype uint8.
    """
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist(
    folder: Path, train: int = 64, test: int = 32, gz: bool = True, seed: int = 0
) -> list[Path]:
    """Write the four IDX files of an MNIST-like dataset (MNIST, Fashion-MNIST, KMNIST).

    Args:
        folder: Destination folder (created).
        train: Training images.
        test: Test images.
        gz: Gzip the files, as published.
        seed: Seeds pixels and labels.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    written = []
    for split, count in (("train", train), ("test", test)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for name, array in zip(_IDX_NAMES[split], (images, labels), strict=True):
            path = folder / (f"{name}.gz" if gz else name)
            data = idx_bytes(array)
            path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
            written.append(path)
    return written


def _cifar_batch(rng: np.random.Generator, count: int, keys: dict[str, int]) -> dict:
    batch: dict = {"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8)}
    for key, classes in keys.items():
        batch[key] = [int(v) for v in np.arange(count) % classes]
    return batch


def _dump(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # Protocol 2, as the published batches (written by Python 2) are: numpy arrays
        # rebuild through numpy.core.multiarray._reconstruct, like in the real files.
        pickle.dump(obj, handle, protocol=2)


def write_cifar10(folder: Path, per_batch: int = 16, test: int = 32, seed: int = 0) -> Path:
    """Write ``cifar-10-batches-py/`` (five train batches, test batch, meta).

    Args:
        folder: The dataset folder (``data_dir``).
        per_batch: Images in each of the five training batches.
        test: Test images.
        seed: Seeds pixels.
    """
    rng = _rng(seed)
    root = folder / "cifar-10-batches-py"
    for index in range(1, 6):
        _dump(root / f"data_batch_{index}", _cifar_batch(rng, per_batch, {"labels": 10}))
    _dump(root / "test_batch", _cifar_batch(rng, test, {"labels": 10}))
    names = [
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
    ]
    _dump(root / "batches.meta", {"label_names": names, "num_vis": 3072})
    return root


def write_cifar100(folder: Path, train: int = 200, test: int = 100, seed: int = 0) -> Path:
    """Write ``cifar-100-python/`` (train, test, meta with fine and coarse names).

    Args:
        folder: The dataset folder (``data_dir``).
        train: Training images.
        test: Test images.
        seed: Seeds pixels.
    """
    rng = _rng(seed)
    root = folder / "cifar-100-python"
    keys = {"fine_labels": 100, "coarse_labels": 20}
    _dump(root / "train", _cifar_batch(rng, train, keys))
    _dump(root / "test", _cifar_batch(rng, test, keys))
    _dump(
        root / "meta",
        {
            "fine_label_names": [f"fine{i}" for i in range(100)],
            "coarse_label_names": [f"coarse{i}" for i in range(20)],
        },
    )
    return root


def tar_folder(source: Path, archive: Path) -> Path:
    """Pack ``source`` into a ``.tar.gz`` whose members start with its name (as CIFAR's do).

    Args:
        source: The folder to pack.
        archive: The archive to write.
    """
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname=source.name)
    return archive


def write_svhn(folder: Path, train: int = 64, test: int = 32, seed: int = 0) -> list[Path]:
    """Write ``train_32x32.mat`` and ``test_32x32.mat`` (X: 32x32x3xN, y: labels 1-10).

    Args:
        folder: The dataset folder.
        train: Training images.
        test: Test images.
        seed: Seeds pixels.
    """
    from scipy.io import savemat

    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    written = []
    for name, count in (("train_32x32.mat", train), ("test_32x32.mat", test)):
        images = rng.integers(0, 256, (32, 32, 3, count), dtype=np.uint8)
        labels = (np.arange(count) % 10 + 1).astype(np.uint8).reshape(-1, 1)  # 10 means 0
        savemat(folder / name, {"X": images, "y": labels})
        written.append(folder / name)
    return written


def write_image_folder(
    folder: Path,
    classes: Sequence[str] = ("cat", "dog", "fox"),
    per_class: int = 6,
    size: tuple[int, int] = (20, 24),
    formats: Sequence[str] = ("PNG", "JPEG"),
    broken: bool = False,
    seed: int = 0,
) -> list[Path]:
    """Write ``folder/<class>/<n>.png|jpg`` images; optionally a few unreadable files.

    Args:
        folder: The folder of class sub-folders.
        classes: Class names.
        per_class: Images per class.
        size: ``(height, width)`` of the images (readers resize them).
        formats: Pillow formats used in turn.
        broken: Also write a truncated PNG, a text file and an empty ``.jpg``.
        seed: Seeds pixels.

    Returns:
        The broken files written (empty unless ``broken``).
    """
    from PIL import Image

    rng = _rng(seed)
    suffix = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp"}
    for name in classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            image_format = formats[index % len(formats)]
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            path = folder / name / f"{index}{suffix[image_format]}"
            Image.fromarray(pixels).save(path, format=image_format)
    if not broken:
        return []
    first = folder / classes[0]
    truncated = first / "truncated.png"
    truncated.write_bytes((first / "0.png").read_bytes()[:60])
    notes = first / "notes.txt"
    notes.write_text("not an image\n")
    empty = folder / classes[-1] / "empty.jpg"
    empty.write_bytes(b"")
    return [truncated, notes, empty]


__all__ = [
    "idx_bytes",
    "tar_folder",
    "write_cifar10",
    "write_cifar100",
    "write_image_folder",
    "write_mnist",
    "write_svhn",
]
