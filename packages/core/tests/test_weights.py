"""Pretrained weights: cached once by SHA-256 from a local HTTP server, loaded as tensors."""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard.testing.http_server import RangeServer
from pegboard.weights import cache_root, cached_weights, load_weights_file

STATE = {"layer.weight": torch.arange(6.0).reshape(2, 3), "layer.bias": torch.zeros(2)}


def saved(value: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


WEIGHTS = saved(STATE)
SHA256 = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RangeServer]:
    with RangeServer(tmp_path / "served") as server:
        yield server


def test_weights_are_downloaded_once_into_the_cache(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("models/net.pt", WEIGHTS)
    path = cached_weights(url, SHA256.upper(), tmp_path / "cache")
    assert path == tmp_path / "cache" / "weights" / SHA256 / "net.pt"
    assert path.read_bytes() == WEIGHTS
    assert cached_weights(url, SHA256, tmp_path / "cache") == path
    assert server.requests == [("/models/net.pt", None)]  # the second call asked nothing


def test_the_cache_folder_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEGBOARD_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "pegboard"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "pegboard"
    monkeypatch.setenv("PEGBOARD_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"
    assert cache_root(tmp_path / "given") == tmp_path / "given"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/a/b/resnet%2018.pth?download=1", "resnet_18.pth"),
        ("/", "weights.bin"),
        ("/%2e%2e", "weights.bin"),
        ("/x/..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("/x\\..\\evil.pt", "evil.pt"),
    ],
)
def test_the_cached_file_is_named_after_the_url_and_stays_in_its_folder(
    server: RangeServer, tmp_path: Path, path: str, name: str
) -> None:
    server.put("file", WEIGHTS)
    url = server.url.rstrip("/") + path
    folder = tmp_path / "cache" / "weights" / SHA256
    with pytest.raises(ConfigError):  # the server has no such file; only the name matters
        cached_weights(url, SHA256, tmp_path / "cache")
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.lock"]


def test_a_dropped_download_resumes_and_ends_verified(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("net.pt", WEIGHTS)
    server.cuts = [len(WEIGHTS) // 3]
    path = cached_weights(url, SHA256, tmp_path)
    assert load_weights_file(path).keys() == STATE.keys()
    assert server.requests == [("/net.pt", None), ("/net.pt", f"bytes={len(WEIGHTS) // 3}-")]


def test_a_file_with_another_digest_is_refused(server: RangeServer, tmp_path: Path) -> None:
    url = server.put("net.pt", saved({"other": torch.ones(1)}))
    actual = hashlib.sha256((server.root / "net.pt").read_bytes()).hexdigest()
    with pytest.raises(ConfigError) as refused:
        cached_weights(url, SHA256, tmp_path)
    assert f"sha256 checksum {actual}, expected {SHA256}" in str(refused.value)
    folder = tmp_path / "weights" / SHA256
    assert not (folder / "net.pt").exists() and not (folder / "net.pt.part").exists()


@pytest.mark.parametrize("sha256", ["", None, "abc", "g" * 64, SHA256 + "0"])
def test_a_missing_or_malformed_sha256_is_a_one_line_error(sha256: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        cached_weights("https://example.org/net.pt", sha256, tmp_path)
    assert str(refused.value) == (
        f"model.init_sha256={sha256!r} must be the 64-hex-digit SHA-256 of the file at "
        "https://example.org/net.pt (sha256sum FILE prints it)"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/net.pt"])
def test_only_http_urls_are_fetched(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only http:// and https:// URLs are fetched"):
        cached_weights(url, SHA256, tmp_path)


def test_a_checkpoint_gives_its_state_dict(tmp_path: Path) -> None:
    checkpoint = {"state_dict": STATE, "epoch": 3, "hyper_parameters": {"lr": 0.1}}
    (tmp_path / "last.ckpt").write_bytes(saved(checkpoint))
    loaded = load_weights_file(tmp_path / "last.ckpt")
    assert loaded.keys() == STATE.keys()
    assert all(torch.equal(loaded[key], STATE[key]) for key in STATE)


def test_a_plain_state_dict_is_returned_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "net.pt").write_bytes(WEIGHTS)
    loaded = load_weights_file(tmp_path / "net.pt")
    assert all(torch.equal(loaded[key], STATE[key]) for key in STATE)


def test_a_safetensors_file_is_read_with_safetensors(tmp_path: Path) -> None:
    safetensors = pytest.importorskip("safetensors.torch")
    safetensors.save_file(STATE, str(tmp_path / "net.safetensors"))
    loaded = load_weights_file(tmp_path / "net.safetensors")
    assert all(torch.equal(loaded[key], STATE[key]) for key in STATE)


@pytest.mark.parametrize("value", [[1, 2, 3], torch.ones(3), {"epoch": 3}, {}])
def test_a_file_without_a_state_dict_is_refused(value: object, tmp_path: Path) -> None:
    (tmp_path / "x.pt").write_bytes(saved(value))
    with pytest.raises(ConfigError, match=r"x\.pt holds no state dict"):
        load_weights_file(tmp_path / "x.pt")


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pwned",))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a weights file at all" * 4, "not a weights file that loads without running code"),
        (b"", "the file ends early"),
        (
            pickle.dumps(_Payload(), protocol=2),
            "not a weights file that loads without running code",
        ),
        (WEIGHTS[: len(WEIGHTS) // 2], ""),
    ],
    ids=["garbage", "empty", "code", "truncated"],
)
def test_an_unreadable_file_is_a_one_line_error_naming_it(
    data: bytes, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.pt").write_bytes(data)
    with pytest.raises(ConfigError) as refused:
        load_weights_file(tmp_path / "bad.pt")
    message = str(refused.value)
    assert message.startswith(f"cannot read weights from {tmp_path / 'bad.pt'}: {reason}")
    assert "\n" not in message and "weights_only" not in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert "pwned" not in capsys.readouterr().out


def test_a_broken_safetensors_file_is_a_one_line_error(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage" * 10)
    with pytest.raises(ConfigError, match=r"^cannot read weights from .*bad\.safetensors: [^\n]+$"):
        load_weights_file(tmp_path / "bad.safetensors")


def test_safetensors_missing_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    with pytest.raises(ConfigError, match=r"pip install pegboard-core\[safetensors\]"):
        load_weights_file(tmp_path / "net.safetensors")
