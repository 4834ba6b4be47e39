"""Decoded datasets saved as tensors on disk, so a second run skips decoding.

The cache file's name carries a fingerprint of the source files (names, sizes,
modification times) and of the decoding options: changing either gives a new file
instead of stale tensors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

#: Bump when the layout of cached tensors changes, so old caches are ignored.
CACHE_VERSION = 1
CACHE_FOLDER = ".pegboard-cache"


def fingerprint(name: str, sources: Iterable[Path], options: dict[str, Any]) -> str:
    """A short digest naming one decoded version of a dataset.

    Args:
        name: The dataset's name.
        sources: The files decoding reads.
        options: Decoding options that change the tensors (image size, label kind...).
    """
    facts: list[Any] = [name, CACHE_VERSION, sorted(options.items())]
    for path in sorted(sources):
        stat = path.stat()
        facts.append([str(path), stat.st_size, stat.st_mtime_ns])
    return hashlib.sha1(json.dumps(facts, default=str).encode(), usedforsecurity=False).hexdigest()[
        :16
    ]


def cache_path(data_dir: Path, name: str, digest: str) -> Path:
    """Where the decoded tensors of one dataset version live.

    Args:
        data_dir: The dataset folder.
        name: The dataset's name.
        digest: From ``fingerprint``.
    """
    return data_dir / CACHE_FOLDER / f"{name}-{digest}.pt"


def load(path: Path) -> dict[str, Any] | None:
    """The cached payload, or ``None`` when there is none or it cannot be read.

    Args:
        path: From ``cache_path``.
    """
    if not path.exists():
        return None
    try:
        payload = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:
        log.warning("Ignoring unreadable cache %s: %s", path, error)
        return None
    log.info("Loaded decoded tensors from %s", path)
    return payload


def save(path: Path, payload: dict[str, Any]) -> None:
    """Write the payload atomically: concurrent runs never read a half-written cache.

    Args:
        path: From ``cache_path``.
        payload: Tensors, lists and strings (what ``torch.load(weights_only=True)`` reads).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(payload, temporary)
    temporary.replace(path)
    log.info("Cached decoded tensors in %s", path)


__all__ = ["cache_path", "fingerprint", "load", "save"]
