"""Pretrained weights: downloaded once into a cache, verified by SHA-256, loaded as tensors.

``cached_weights`` fetches a file through the same code as the datasets
(``pegboard.download.download_verified``): resumable, checked, renamed into place only
once its digest matches. ``load_weights_file`` reads a state dict from it without running
code (``torch.load(weights_only=True)``, or safetensors). torch is imported when a file is
loaded, not when this module is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from pegboard.download import Checksum, download_verified
from pegboard.errors import ConfigError

if TYPE_CHECKING:
    import torch

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")
_DEFAULT_NAME = "weights.bin"


def cache_root(cache_dir: Path | None = None) -> Path:
    """The folder pegboard caches downloads in.

    Args:
        cache_dir: Use this folder. Otherwise ``$PEGBOARD_CACHE_DIR``, else
            ``$XDG_CACHE_HOME/pegboard``, else ``~/.cache/pegboard``.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if configured := os.environ.get("PEGBOARD_CACHE_DIR"):
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pegboard"


def _file_name(url: str) -> str:
    """The last segment of the URL's path as a plain file name (no folder, no ``..``)."""
    name = unquote(urlsplit(url).path).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)[-200:]
    return _DEFAULT_NAME if name.strip(".") == "" else name


def cached_weights(url: str, sha256: str, cache_dir: Path | None = None) -> Path:
    """A verified local copy of the weights file at ``url``, downloaded on first use.

    The file goes to ``<cache>/weights/<sha256>/<file name>``; a copy there whose digest
    matches is returned without any request. A download is resumed after an interruption
    and refused when its SHA-256 is not ``sha256``.

    Args:
        url: An ``http://`` or ``https://`` URL of the file.
        sha256: The 64-hex-digit SHA-256 of the file (``sha256sum FILE`` prints it).
        cache_dir: The cache folder (see ``cache_root``).

    Returns:
        The path of the verified file.

    Raises:
        ConfigError: ``sha256`` is not a SHA-256, the URL is not http(s), or no file with
            that digest could be downloaded (the message names expected and actual digest).
    """
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.strip()):
        raise ConfigError(
            f"model.init_sha256={sha256!r} must be the 64-hex-digit SHA-256 of the file at "
            f"{url} (sha256sum FILE prints it)"
        )
    checksum = Checksum("sha256", sha256.strip())
    target = cache_root(cache_dir) / "weights" / checksum.hexdigest / _file_name(url)
    return download_verified([url], target, checksum, user_agent="pegboard-weights")


def _first_sentence(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line.split(". ", 1)[0].rstrip(".")


def _reason(error: BaseException) -> str:
    """One line that says why a file did not load (torch's own message runs to a page)."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        # torch's advice around it (load with weights_only=False) is what must not be done.
        detail = _first_sentence(text.split(marker, 1)[1]) or "refused"
        return f"not a weights file that loads without running code ({detail})"
    if isinstance(error, EOFError):
        return "the file ends early (empty or truncated)"
    return _first_sentence(text) or type(error).__name__


def _state_dict(loaded: Any, path: Path) -> dict[str, torch.Tensor]:
    import torch

    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        loaded = loaded["state_dict"]  # a Lightning (pegboard) checkpoint
    if (
        not isinstance(loaded, Mapping)
        or not loaded
        or not all(
            isinstance(key, str) and isinstance(value, torch.Tensor)
            for key, value in loaded.items()
        )
    ):
        raise ConfigError(
            f"{path} holds no state dict (a mapping of parameter names to tensors, or a "
            f"checkpoint with one under 'state_dict'): found {type(loaded).__name__}"
        )
    return dict(loaded)


def load_weights_file(path: Path) -> dict[str, torch.Tensor]:
    """Read the state dict in a weights file, on the CPU, without running code.

    A ``.safetensors`` file is read with safetensors; anything else with
    ``torch.load(weights_only=True)``. A checkpoint (a dict with a ``state_dict``) gives its
    state dict; a plain state dict is returned as it is.

    Args:
        path: The file.

    Returns:
        Parameter and buffer names mapped to tensors.

    Raises:
        ConfigError: The file cannot be read or holds no state dict (one line naming it).
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise ConfigError(
                f"{path} is a safetensors file: pip install pegboard-core[safetensors] to read it"
            ) from None
        try:
            loaded: Any = load_file(str(path), device="cpu")
        except Exception as error:  # any failure to parse is the file's, said in one line
            raise ConfigError(f"cannot read weights from {path}: {_reason(error)}") from None
        return _state_dict(loaded, path)
    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors alike: the file is unreadable
        raise ConfigError(f"cannot read weights from {path}: {_reason(error)}") from None
    return _state_dict(loaded, path)


__all__ = ["cache_root", "cached_weights", "load_weights_file"]
