"""One process at a time: an advisory lock on a file beside what is being made.

Downloads into a shared cache and the first use of a shared SQLite tracking store must
not run twice at once (two runs started at the same second); ``fcntl.flock`` serializes
them across processes. Where there is no ``fcntl`` (Windows) the lock does nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent runs are the user's to avoid
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def exclusive(target: Path, doing: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<target>.lock`` for the duration of the block.

    Args:
        target: The file being made; the lock file is created beside it.
        doing: What the holder does, for the line logged while waiting ("downloading").
    """
    if fcntl is None:
        yield
        return
    # The lock file stays: removing it would let a waiter and a newcomer lock two inodes.
    with target.with_name(target.name + ".lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("Waiting for another process that is %s %s", doing, target)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["exclusive"]
