"""Downloads against a local HTTP server: verify, resume, redo a corrupt file, extract."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard_data_vision import testing as files
from pegboard_data_vision.cifar import CIFAR10DataModule
from pegboard_data_vision.download import Remote, fetch, md5sum
from pegboard_data_vision.mnist import MNISTDataModule


def serve(root: Path, name: str, data: bytes) -> Remote:
    (root / name).write_bytes(data)
    return Remote(name, md5sum(root / name), ("http://unused.invalid/",))


def test_fetch_downloads_and_verifies(http_root, tmp_path: Path) -> None:
    root, url, _ = http_root
    remote = serve(root, "blob.bin", bytes(range(256)) * 100)
    path = fetch(remote, tmp_path / "d", mirror=url)
    assert path.read_bytes() == (root / "blob.bin").read_bytes()
    assert not (tmp_path / "d" / "blob.bin.part").exists()


def test_fetch_resumes_an_interrupted_download(http_root, tmp_path: Path) -> None:
    root, url, requests = http_root
    data = bytes(range(256)) * 100
    remote = serve(root, "blob.bin", data)
    (tmp_path / "blob.bin.part").write_bytes(data[:1000])
    fetch(remote, tmp_path, mirror=url)
    assert (tmp_path / "blob.bin").read_bytes() == data
    assert requests == [("/blob.bin", "bytes=1000-")]


def test_a_corrupt_file_is_downloaded_again(http_root, tmp_path: Path) -> None:
    root, url, requests = http_root
    remote = serve(root, "blob.bin", b"the real content" * 50)
    (tmp_path / "blob.bin").write_bytes(b"bit rot")
    fetch(remote, tmp_path, mirror=url)
    assert (tmp_path / "blob.bin").read_bytes() == b"the real content" * 50
    # A resumed tail that does not belong to the file is thrown away and fetched whole.
    (tmp_path / "blob.bin").unlink()
    (tmp_path / "blob.bin.part").write_bytes(b"garbage!")
    requests.clear()
    fetch(remote, tmp_path, mirror=url)
    assert (tmp_path / "blob.bin").read_bytes() == b"the real content" * 50
    assert requests == [("/blob.bin", "bytes=8-"), ("/blob.bin", None)]


def test_a_server_with_a_corrupt_file_gives_a_clear_error(http_root, tmp_path: Path) -> None:
    root, url, _ = http_root
    remote = dataclasses.replace(serve(root, "blob.bin", b"corrupt"), md5="0" * 32)
    with pytest.raises(ConfigError, match=r"checksum .* expected 0{32}"):
        fetch(remote, tmp_path, mirror=url)
    assert not (tmp_path / "blob.bin").exists() and not (tmp_path / "blob.bin.part").exists()


def test_mnist_download_end_to_end(http_root, tmp_path: Path, monkeypatch) -> None:
    root, url, _ = http_root
    served = files.write_mnist(root)
    # The real checksums are for the real files: serve small ones with their own.
    remotes = tuple(
        dataclasses.replace(remote, md5=md5sum(path))
        for remote, path in zip(MNISTDataModule.remotes, served, strict=True)
    )
    monkeypatch.setattr(MNISTDataModule, "remotes", remotes)
    target = tmp_path / "mnist"
    target.mkdir()
    (target / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupt leftover")
    datamodule = MNISTDataModule(data_dir=str(target), download=True, mirror=url)
    datamodule.prepare_data()
    datamodule.setup("fit")
    assert len(datamodule.splits["test"][0]) == 32
    for path in served:
        assert (target / path.name).read_bytes() == path.read_bytes()


def test_cifar_download_extracts_the_archive(http_root, tmp_path: Path, monkeypatch) -> None:
    root, url, _ = http_root
    archive = files.tar_folder(
        files.write_cifar10(tmp_path / "src"), root / "cifar-10-python.tar.gz"
    )
    remote = dataclasses.replace(CIFAR10DataModule.remotes[0], md5=md5sum(archive))
    monkeypatch.setattr(CIFAR10DataModule, "remotes", (remote,))
    datamodule = CIFAR10DataModule(data_dir=str(tmp_path / "c"), download=True, mirror=url)
    datamodule.prepare_data()
    datamodule.setup("fit")
    assert datamodule.class_names[0] == "airplane" and len(datamodule.splits["test"][1]) == 32


def test_real_checksums_refuse_files_that_are_not_the_dataset(http_root, tmp_path) -> None:
    root, url, _ = http_root
    files.write_mnist(root)
    datamodule = MNISTDataModule(data_dir=str(tmp_path / "m"), download=True, mirror=url)
    with pytest.raises(ConfigError, match="f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        datamodule.prepare_data()
