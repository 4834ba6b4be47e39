"""Download a file over HTTP(S): resumable, verified against a published checksum.

Datasets (``pegboard_data_vision.download``) and pretrained weights (``pegboard.weights``)
both come through ``download_verified``. Only the standard library is used (urllib,
hashlib, fcntl), so the download path has no dependency that an offline machine could miss,
and importing this module imports no torch.

A download is data, never code (docs/security.md): it is written only under the name it
was asked for, and it takes that name only once its checksum matches.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from pegboard.errors import ConfigError
from pegboard.file_lock import exclusive

log = logging.getLogger(__name__)

#: Hex digits of each supported digest.
ALGORITHMS = {"md5": 32, "sha256": 64}
_SCHEMES = ("http", "https")
_CHUNK = 1 << 20
_TIMEOUT_S = 60
#: Times a transfer that stopped midway is resumed at once before the next URL is tried.
_RESUMES = 3


@dataclass(frozen=True)
class Checksum:
    """The digest a file must have, as its publisher gives it.

    Args:
        algorithm: ``"md5"`` or ``"sha256"``.
        hexdigest: The digest in hexadecimal (either case; kept in lower case).

    Raises:
        ConfigError: The algorithm is unknown or the digest is not of its length.
    """

    algorithm: str
    hexdigest: str

    def __post_init__(self) -> None:
        length = ALGORITHMS.get(self.algorithm)
        if length is None:
            raise ConfigError(
                f"checksum algorithm {self.algorithm!r} is unknown: use one of "
                f"{', '.join(ALGORITHMS)}"
            )
        digest = self.hexdigest.lower() if isinstance(self.hexdigest, str) else ""
        if len(digest) != length or digest.strip("0123456789abcdef"):
            raise ConfigError(
                f"{self.algorithm} checksum {self.hexdigest!r} must be {length} hexadecimal digits"
            )
        object.__setattr__(self, "hexdigest", digest)


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in chunks so large archives use little memory.

    Args:
        path: The file.
        algorithm: ``"md5"`` or ``"sha256"``.
    """
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"checksum algorithm {algorithm!r} is unknown: use one of md5, sha256")
    # MD5 here only matches a published checksum; FIPS builds allow it when said so.
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only (urllib alone would also follow one to ftp)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme not in _SCHEMES:
            raise urllib.error.HTTPError(
                req.full_url, code, f"redirect to {newurl} refused (not http/https)", headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _transfer(url: str, partial: Path, timeout: float, user_agent: str) -> None:
    """Download ``url`` into ``partial``, continuing after the bytes already there."""
    have = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and have:
            return  # the range starts at the end: the partial file is already complete
        raise
    with response:
        # 206 means the server honoured the range; a plain 200 resends the whole file.
        mode = "ab" if have and response.status == 206 else "wb"
        if mode == "ab":
            log.info("Resuming %s at byte %d", url, have)
        expected = response.headers.get("Content-Length", "")
        received = 0
        with partial.open(mode) as handle:
            while chunk := response.read(_CHUNK):
                handle.write(chunk)
                received += len(chunk)
    # http.client returns a body cut short without an error: the length tells.
    if expected.isdigit() and received < int(expected):
        raise ConnectionError(f"the connection closed after {received} of {expected} bytes")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else -1


class DownloadError(ConfigError):
    """No URL delivered the file with its checksum.

    Args:
        message: Names the file and each URL's error, one per line.
        mismatched: The digests of the files that arrived whole but differed, in order.
    """

    def __init__(self, message: str, mismatched: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.mismatched = list(mismatched)


def _from_url(
    url: str,
    partial: Path,
    checksum: Checksum,
    errors: list[str],
    mismatched: list[str],
    timeout: float,
    agent: str,
) -> bool:
    """Try to complete ``partial`` from one URL; note each failure in ``errors``."""
    attempt = resumes = 0
    while attempt < 2:
        before = _size(partial)
        try:
            log.info("Downloading %s", url)
            _transfer(url, partial, timeout, agent)
        except (OSError, http.client.HTTPException) as error:
            # URLError is an OSError; so is a dropped connection.
            errors.append(f"{url}: {error}" if str(error) else f"{url}: {error!r}")
            if _size(partial) != before and resumes < _RESUMES:
                resumes += 1  # bytes came before the link dropped: go on from there
                continue
            return False  # unreachable: the next URL; the partial file stays for resuming
        got = file_digest(partial, checksum.algorithm)
        if got == checksum.hexdigest:
            return True
        attempt += 1
        mismatched.append(got)
        # A resumed tail may not belong to the same file: start over once.
        errors.append(
            f"{url}: {checksum.algorithm} checksum {got}, expected "
            f"{checksum.hexdigest} (attempt {attempt})"
        )
        partial.unlink()
    return False


def _verified(target: Path, checksum: Checksum) -> bool:
    return target.is_file() and file_digest(target, checksum.algorithm) == checksum.hexdigest


def download_verified(
    urls: Sequence[str],
    target: Path,
    checksum: Checksum,
    *,
    timeout: float = _TIMEOUT_S,
    user_agent: str = "pegboard",
) -> Path:
    """Make ``target`` a verified copy of the file published at ``urls``.

    A file already there is kept when its checksum matches and downloaded again when it
    does not. The download goes to ``<name>.part`` and an interrupted one is resumed with
    an HTTP range request: at once when the connection drops midway (up to 3 times), on
    the next call when the process stopped. A download whose checksum is wrong is deleted
    and fetched once more from scratch; then the next URL is tried. The verified file takes
    the target's name by an atomic rename, so a file under that name is always whole.
    Processes that download the same target at once take turns (a lock on ``<name>.lock``,
    where the system has ``fcntl``): the second finds the first one's verified file.

    Args:
        urls: Full URLs of the same file, tried in order; only ``http://`` and ``https://``.
        target: Where the verified file goes; its folder is created.
        checksum: The digest the file must have.
        timeout: Seconds a connection may stay silent before it counts as failed.
        user_agent: The ``User-Agent`` header sent.

    Returns:
        ``target``.

    Raises:
        ConfigError: A URL is not http(s).
        DownloadError: No URL delivered a file with the checksum (the message names the
            file and each URL's error; ``mismatched`` holds the digests that differed).
    """
    target = Path(target)
    if not urls:
        raise ConfigError(f"no URL given to download {target.name} from")
    for url in urls:
        if urlsplit(url).scheme.lower() not in _SCHEMES:
            raise ConfigError(
                f"cannot download {target.name} from {url!r}: only http:// and https:// "
                "URLs are fetched"
            )
    if _verified(target, checksum):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(target, "downloading"):
        # Another process may have finished it while this one waited for the lock.
        if target.exists():
            if _verified(target, checksum):
                return target
            log.warning("%s is corrupt (checksum mismatch); downloading it again", target)
            target.unlink()
        partial = target.with_name(target.name + ".part")
        errors: list[str] = []
        mismatched: list[str] = []
        for url in urls:
            if _from_url(url, partial, checksum, errors, mismatched, timeout, user_agent):
                os.replace(partial, target)
                return target
    raise DownloadError(
        f"could not download {target.name} into {target.parent}:\n  " + "\n  ".join(errors),
        mismatched,
    )


__all__ = ["ALGORITHMS", "Checksum", "DownloadError", "download_verified", "file_digest"]
