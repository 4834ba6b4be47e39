"""download_verified against a local HTTP server: verify, keep, resume, redo, refuse, lock."""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from pegboard.download import Checksum, DownloadError, download_verified, file_digest
from pegboard.errors import ConfigError
from pegboard.testing.http_server import RangeServer

DATA = bytes(range(256)) * 40  # 10 KiB


def sha256(data: bytes) -> Checksum:
    return Checksum("sha256", hashlib.sha256(data).hexdigest())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RangeServer]:
    with RangeServer(tmp_path / "served") as server:
        yield server


def test_checksums_are_checked_for_algorithm_and_length() -> None:
    assert Checksum("md5", "AB" * 16).hexdigest == "ab" * 16
    with pytest.raises(ConfigError, match="'sha1' is unknown: use one of md5, sha256"):
        Checksum("sha1", "0" * 40)
    with pytest.raises(ConfigError, match="sha256 checksum '0123' must be 64 hexadecimal digits"):
        Checksum("sha256", "0123")
    with pytest.raises(ConfigError, match="must be 32 hexadecimal digits"):
        Checksum("md5", "z" * 32)


def test_file_digest_reads_md5_and_sha256(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(DATA)
    assert file_digest(tmp_path / "f", "md5") == hashlib.md5(DATA).hexdigest()
    assert file_digest(tmp_path / "f", "sha256") == hashlib.sha256(DATA).hexdigest()


def test_a_download_is_verified_and_then_kept(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    target = tmp_path / "d" / "blob.bin"
    assert download_verified([url], target, sha256(DATA)) == target
    assert target.read_bytes() == DATA and not (tmp_path / "d" / "blob.bin.part").exists()
    download_verified([url], target, sha256(DATA))
    assert server.requests == [("/blob.bin", None)]  # the verified file needed no request


def test_a_dropped_connection_is_resumed_at_once(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    server.cuts = [3000]
    download_verified([url], tmp_path / "blob.bin", sha256(DATA))
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    assert server.requests == [("/blob.bin", None), ("/blob.bin", "bytes=3000-")]


def test_the_part_file_of_a_stopped_run_is_resumed(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    (tmp_path / "blob.bin.part").write_bytes(DATA[:1000])
    download_verified([url], tmp_path / "blob.bin", sha256(DATA))
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    assert server.requests == [("/blob.bin", "bytes=1000-")]


def test_a_link_that_keeps_dropping_is_given_up(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    server.cuts = [100] * 10
    with pytest.raises(ConfigError) as refused:
        download_verified([url], tmp_path / "blob.bin", sha256(DATA))
    assert str(refused.value).splitlines()[1:] == [
        f"  {url}: the connection closed after 100 of {10240 - 100 * n} bytes" for n in range(4)
    ]
    assert len(server.requests) == 4  # the first try and three resumes
    assert (tmp_path / "blob.bin.part").stat().st_size == 400  # kept for the next run


def test_a_complete_part_file_is_taken_as_it_is(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    (tmp_path / "blob.bin.part").write_bytes(DATA)
    download_verified([url], tmp_path / "blob.bin", sha256(DATA))  # the server answers 416
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    assert server.requests == [("/blob.bin", "bytes=10240-")]


def test_a_corrupt_target_or_tail_is_fetched_again(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    target = tmp_path / "blob.bin"
    target.write_bytes(b"bit rot")
    (tmp_path / "blob.bin.part").write_bytes(b"not the start of it")
    download_verified([url], target, sha256(DATA))
    assert target.read_bytes() == DATA
    # The resumed tail did not make the file: it was thrown away and fetched whole.
    assert server.requests == [("/blob.bin", "bytes=19-"), ("/blob.bin", None)]


def test_wrong_bytes_are_refused_naming_both_digests(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    server.corrupt = True
    served = hashlib.sha256(bytes(b ^ 0xFF for b in DATA)).hexdigest()
    expected = sha256(DATA).hexdigest
    with pytest.raises(ConfigError) as refused:
        download_verified([url], tmp_path / "blob.bin", sha256(DATA))
    message = str(refused.value)
    assert message.startswith(f"could not download blob.bin into {tmp_path}")
    assert f"sha256 checksum {served}, expected {expected} (attempt 2)" in message
    assert isinstance(refused.value, DownloadError)
    assert refused.value.mismatched == [served, served]  # callers read the digest, not the text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin.lock", "served"]


def test_each_url_is_tried_in_turn_and_each_error_named(
    server: RangeServer, tmp_path: Path
) -> None:
    good = server.put("blob.bin", DATA)
    missing = server.url + "gone.bin"
    download_verified([missing, good], tmp_path / "blob.bin", sha256(DATA))
    assert (tmp_path / "blob.bin").read_bytes() == DATA
    with pytest.raises(ConfigError) as refused:
        download_verified([missing, missing + "?again"], tmp_path / "x", sha256(DATA))
    lines = str(refused.value).splitlines()
    assert lines[0] == f"could not download x into {tmp_path}:"
    assert lines[1:] == [
        f"  {missing}: HTTP Error 404: Not Found",
        f"  {missing}?again: HTTP Error 404: Not Found",
    ]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "/etc/passwd"])
def test_only_http_urls_are_fetched(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only http:// and https:// URLs are fetched"):
        download_verified([url], tmp_path / "x", sha256(DATA))
    assert list(tmp_path.iterdir()) == []


def test_two_processes_at_once_download_the_file_once(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("blob.bin", DATA)
    server.stall_s = 1.0  # the first transfer lasts while the second process starts
    target = tmp_path / "blob.bin"
    spawn = multiprocessing.get_context("spawn")
    runs = [
        spawn.Process(target=download_verified, args=([url], target, sha256(DATA)))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(30)
    assert [run.exitcode for run in runs] == [0, 0]
    assert target.read_bytes() == DATA
    # The second waited on the lock and found the first one's verified file.
    assert server.requests == [("/blob.bin", None)]
