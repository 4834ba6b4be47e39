"""Fetch dataset files from their official location: resumable, checksummed, extracted.

The transfer and the check are core's (``pegboard.download.download_verified``, also used for
pretrained weights); this module adds what a dataset needs: its published files with their
MD5 checksums and mirrors, and safe extraction of archives. Only the standard library is
used, so the download path has no dependency that an offline machine could miss.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pegboard.download import Checksum, download_verified, file_digest
from pegboard.errors import ConfigError


@dataclass(frozen=True)
class Remote:
    """One file that a dataset publishes.

    Args:
        filename: Name of the file in the dataset folder (and at the end of its URL).
        md5: The MD5 checksum that the dataset's authors (and torchvision) publish.
        urls: Base URLs tried in order, each ending with ``/``; the file is ``url + filename``.
        extract: Unpack the file (a ``.tar.gz``) into the dataset folder after verifying it.
        provides: The dataset files this download supplies (default: ``filename`` itself).
    """

    filename: str
    md5: str
    urls: tuple[str, ...]
    extract: bool = False
    provides: tuple[str, ...] = ()


def md5sum(path: Path) -> str:
    """Hex MD5 digest of a file, read in chunks so large archives use little memory.

    Args:
        path: The file.
    """
    return file_digest(path, "md5")


def _urls(remote: Remote, mirror: str | None) -> list[str]:
    bases = [mirror.rstrip("/") + "/"] if mirror else list(remote.urls)
    return [base + remote.filename for base in bases]


def fetch(remote: Remote, folder: Path, mirror: str | None = None) -> Path:
    """Make ``folder/remote.filename`` a verified copy of the published file.

    A file already there is kept when its checksum matches and downloaded again when it
    does not. An interrupted download (``<name>.part``) is resumed with an HTTP range
    request. A download whose checksum is wrong is deleted and fetched once more from
    scratch; a second mismatch is an error that names both checksums. See
    ``pegboard.download.download_verified``, which does all of this.

    Args:
        remote: The file to fetch.
        folder: The dataset folder.
        mirror: A base URL that replaces the official ones (tests, local mirrors).

    Returns:
        The path of the verified file.

    Raises:
        ConfigError: No URL could deliver a file with the published checksum.
    """
    return download_verified(
        _urls(remote, mirror),
        folder / remote.filename,
        Checksum("md5", remote.md5),
        user_agent="pegboard-data-vision",
    )


def extract(archive: Path, folder: Path) -> None:
    """Unpack a tar archive into ``folder``, refusing members that would land outside it.

    Args:
        archive: A ``.tar``, ``.tar.gz`` or ``.tgz`` file.
        folder: Destination folder.
    """
    root = folder.resolve()
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            destination = (root / member.name).resolve()
            if not destination.is_relative_to(root) or member.issym() or member.islnk():
                raise ConfigError(
                    f"{archive} holds an unsafe member {member.name!r}; not extracted"
                )
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: the safe filter as well
            tar.extractall(root, members=members, filter="data")
        else:
            tar.extractall(root, members=members)


def fetch_all(remotes: Sequence[Remote], folder: Path, mirror: str | None = None) -> None:
    """Fetch, verify and (where asked) extract every file of a dataset.

    Args:
        remotes: The dataset's files.
        folder: The dataset folder.
        mirror: See ``fetch``.
    """
    for remote in remotes:
        path = fetch(remote, folder, mirror)
        if remote.extract:
            extract(path, folder)


__all__ = ["Remote", "extract", "fetch", "fetch_all", "md5sum"]
