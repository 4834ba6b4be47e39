"""Fetch dataset files from their official location: resumable, checksummed, extracted.

Only the standard library is used (urllib, hashlib, tarfile), so the download path has no
dependency that an offline machine could miss.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pegboard.errors import ConfigError

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_TIMEOUT_S = 60


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
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _transfer(url: str, partial: Path) -> None:
    """Download ``url`` into ``partial``, continuing after the bytes already there."""
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "pegboard-data-vision"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:
            return  # the range starts at the end: the partial file is already complete
        raise
    with response:
        # 206 means the server honoured the range; a plain 200 resends the whole file.
        mode = "ab" if have and response.status == 206 else "wb"
        if mode == "ab":
            log.info("Resuming %s at byte %d", url, have)
        with partial.open(mode) as handle:
            shutil.copyfileobj(response, handle, _CHUNK)


def _urls(remote: Remote, mirror: str | None) -> list[str]:
    bases = [mirror.rstrip("/") + "/"] if mirror else list(remote.urls)
    return [base + remote.filename for base in bases]


def fetch(remote: Remote, folder: Path, mirror: str | None = None) -> Path:
    """Make ``folder/remote.filename`` a verified copy of the published file.

    A file already there is kept when its checksum matches and downloaded again when it
    does not. An interrupted download (``<name>.part``) is resumed with an HTTP range
    request. A download whose checksum is wrong is deleted and fetched once more from
    scratch; a second mismatch is an error that names both checksums.

    Args:
        remote: The file to fetch.
        folder: The dataset folder.
        mirror: A base URL that replaces the official ones (tests, local mirrors).

    Returns:
        The path of the verified file.

    Raises:
        ConfigError: No URL could deliver a file with the published checksum.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.filename
    if target.exists():
        if md5sum(target) == remote.md5:
            return target
        log.warning("%s is corrupt (checksum mismatch); downloading it again", target)
        target.unlink()
    partial = target.with_name(target.name + ".part")
    errors: list[str] = []
    for url in _urls(remote, mirror):
        for attempt in range(2):
            try:
                log.info("Downloading %s", url)
                _transfer(url, partial)
            except (OSError, urllib.error.URLError) as error:
                errors.append(f"{url}: {error}")
                break  # unreachable: try the next URL; the partial file stays for resuming
            got = md5sum(partial)
            if got == remote.md5:
                partial.replace(target)
                return target
            # A resumed tail may not belong to the same file: start over once.
            errors.append(f"{url}: checksum {got}, expected {remote.md5} (attempt {attempt + 1})")
            partial.unlink()
    raise ConfigError(
        f"could not download {remote.filename} into {folder}:\n  " + "\n  ".join(errors)
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
