"""A dataset's files in its folder: find them, fetch what is missing, or say what to do.

``DatasetFiles`` holds the file hooks of ``ImageDataModule`` (the first step of its
``setup``); the functions below it know the published files (``download.Remote``) and
nothing of the datamodule.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import ClassVar

from pegboard.errors import ConfigError, DataNotFound
from pegboard_data_vision.download import Remote, extract, fetch


class DatasetFiles:
    """The file hooks of ``ImageDataModule``: which files, where, and how to get them.

    A dataset names its files (``files``) and where they are published (``remotes``);
    ``ensure_files`` finds them in ``data_dir``, or fetches them with ``download`` on.
    """

    #: The config option's name, used in messages and cache file names.
    name: ClassVar[str] = ""
    #: Files the dataset needs inside ``data_dir``.
    files: ClassVar[tuple[str, ...]] = ()
    #: Where the files are published, and with which checksums.
    remotes: ClassVar[tuple[Remote, ...]] = ()
    #: The dataset's home page, for the missing-files message.
    homepage: ClassVar[str] = ""
    # Set by the datamodule's constructor from its arguments of the same names.
    data_dir: Path | None
    download: bool
    mirror: str | None

    def folder(self) -> Path:
        """The dataset folder; an error when the config gives none."""
        if self.data_dir is None:
            raise ConfigError(f"data={self.name} needs data.data_dir: the folder of its files")
        return self.data_dir

    def locate(self, name: str) -> Path | None:
        """The file that stands for ``name`` in the folder, or ``None`` when there is none.

        Args:
            name: One of ``files``.
        """
        path = self.folder() / name
        return path if path.is_file() else None

    def missing_files(self) -> list[str]:
        """Names from ``files`` that the folder lacks."""
        return [name for name in self.files if self.locate(name) is None]

    def describe_file(self, name: str) -> str:
        """How the missing-files message lists one expected file.

        Args:
            name: One of ``files``.
        """
        return name

    def source_files(self) -> list[Path]:
        """The files ``decode`` reads: their sizes and times key the cache."""
        return [path for name in self.files if (path := self.locate(name)) is not None]

    def ensure_files(self, allow_download: bool = True) -> None:
        """Find or fetch the dataset's files, or raise one message that says how.

        Contract: on return every file the dataset reads is present; otherwise raise
        ``DataNotFound`` or ``ConfigError`` naming what is missing. Never download unless
        ``allow_download`` and ``download`` are both true. The default unpacks archives put
        in the folder by hand and, with ``download`` on, fetches missing files and checks
        those downloaded before against their published checksums.

        Args:
            allow_download: Whether this call may download (``prepare_data`` only, which
                Lightning runs on one process per machine; ``setup`` passes ``False``).
        """
        if not self.files:
            return
        folder = self.folder()
        if allow_download and self.download:
            fetch_missing(folder, self.remotes, self.missing_files(), self.mirror)
        elif self.missing_files():
            unpack_archives(folder, self.remotes)
        missing = self.missing_files()
        if missing:
            described = [self.describe_file(name) for name in missing]
            raise DataNotFound(
                missing_message(self.name, folder, described, self.remotes, self.homepage)
            )


def fetch_missing(
    folder: Path, remotes: Sequence[Remote], missing: Collection[str], mirror: str | None
) -> None:
    """Download what is missing and check again what was downloaded before.

    Args:
        folder: The dataset folder.
        remotes: The files the dataset publishes.
        missing: Names of the dataset's files the folder lacks.
        mirror: A base URL that replaces the official ones, or ``None``.
    """
    for remote in remotes:
        needed = set(remote.provides or (remote.filename,)) & set(missing)
        # A downloaded data file (not an archive) is verified on every such run: a file
        # corrupted since is fetched again instead of failing later inside a decoder.
        verify = not remote.extract and (folder / remote.filename).exists()
        if needed or verify:
            path = fetch(remote, folder, mirror)
            if remote.extract and needed:
                extract(path, folder)


def unpack_archives(folder: Path, remotes: Sequence[Remote]) -> None:
    """Unpack the archives that a user put in the folder by hand (no download needed).

    Args:
        folder: The dataset folder.
        remotes: The files the dataset publishes; those marked ``extract`` are archives.
    """
    for remote in remotes:
        if remote.extract and (folder / remote.filename).is_file():
            extract(folder / remote.filename, folder)


def missing_message(
    name: str, folder: Path, missing: Sequence[str], remotes: Sequence[Remote], homepage: str
) -> str:
    """One message that names the files expected, where to get them and where to put them.

    Args:
        name: The config option (``data=<name>``).
        folder: The dataset folder.
        missing: How each missing file is listed (``ImageDataModule.describe_file``).
        remotes: The files the dataset publishes.
        homepage: The dataset's home page.
    """
    folder = folder.resolve()
    lines = [f"data={name}: {len(missing)} of its files are not in {folder}:"]
    lines += [f"  {described}" for described in missing]
    if any(remote.extract for remote in remotes):
        archives = ", ".join(r.filename for r in remotes if r.extract)
        lines.append(f"(they are unpacked from {archives}; putting the archive there is enough)")
    sources = [remote.urls[0] + remote.filename for remote in remotes]
    where = "\n  ".join(sources) if sources else homepage
    lines.append(f"Get them from\n  {where}\n(see {homepage})")
    lines.append(
        f"and put them in {folder} (or point data.data_dir at their folder), or run with "
        "data.download=true to download and verify them."
    )
    return "\n".join(lines)


__all__ = ["DatasetFiles", "missing_message"]
