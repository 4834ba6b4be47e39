"""``Decoded``: a dataset as ``ImageDataModule.load_splits`` returns it, and its disk cache.

A split is an ``(items, labels)`` pair. In memory the items are stored pixels, a uint8
tensor ``(n, c, h, w)``, and the labels a tensor of class indices; a streaming dataset holds
the file paths and a list of labels instead, and decodes the images as the loader asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pegboard_data_vision import cache

Pair = tuple[torch.Tensor, torch.Tensor]
#: ``(items, labels)``: a ``Pair`` in memory, ``(paths, labels)`` when streamed.
Split = tuple[Any, Any]


@dataclass
class Decoded:
    """A loaded dataset: its splits as ``(items, labels)`` pairs and its class names.

    Args:
        train: The training split (validation, and test without ``test``, are cut from it).
        test: The official test split, or ``None`` to cut one from ``train``.
        class_names: Name of each class.
        val: A separate validation split, or ``None`` to cut one from ``train``.
    """

    train: Split
    test: Split | None
    class_names: list[str]
    val: Split | None = None

    def given(self) -> dict[str, Split]:
        """The held-out splits the dataset supplies itself, by name (not cut from train)."""
        return {
            name: part
            for name, part in (("val", self.val), ("test", self.test))
            if part is not None
        }

    def to_payload(self) -> dict[str, Any]:
        """Plain containers for ``torch.save`` (and ``torch.load(weights_only=True)``)."""
        return {
            "train": list(self.train),
            "test": list(self.test) if self.test else None,
            "val": list(self.val) if self.val else None,
            "class_names": self.class_names,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Decoded:
        """Inverse of ``to_payload``.

        Args:
            payload: What ``to_payload`` returned, as loaded from disk.
        """

        def pair(value: Any) -> Pair | None:
            return (value[0], value[1]) if value else None

        return cls(
            (payload["train"][0], payload["train"][1]),
            pair(payload["test"]),
            list(payload["class_names"]),
            pair(payload["val"]),
        )


def decode_cached(path: Path, decode: Callable[[], Decoded]) -> Decoded:
    """The decoded dataset saved at ``path``, or ``decode()`` saved there for next time.

    Args:
        path: The cache file (``cache.cache_path``), named by the sources' fingerprint.
        decode: Reads the dataset's files into tensors.
    """
    payload = cache.load(path)
    if payload is not None:
        return Decoded.from_payload(payload)
    decoded = decode()
    cache.save(path, decoded.to_payload())
    return decoded


__all__ = ["Decoded", "Pair", "Split", "decode_cached"]
