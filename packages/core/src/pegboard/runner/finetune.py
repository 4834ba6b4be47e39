"""Fine-tuning settings of a model node: ``init_from``, ``init_sha256`` and ``freeze``.

Every composed ``train`` config has these keys in its ``model`` node: ``train.yaml``'s
defaults include ``conf/_model_init/default.yaml`` at package ``model`` before the model
option. So ``pegboard train model.init_from=CKPT`` needs no ``+`` whatever pack the
model comes from, and a model config may name its own pretrained weights. They are settings of the
run, not of the model class: ``split_finetune`` takes them out of the node before it is
built, so they never reach the constructor nor its saved hyperparameters, while the
run's ``config.yaml`` and its checkpoints still record where it started from.

``weights_path`` finds the file ``init_from`` names (fetched and verified when it is a
URL or a registered model); ``pegboard.runner.init_weights`` loads it into the model,
``pegboard.runner.freeze`` freezes the parts. Importing this module imports no torch:
the launcher's checks read these keys too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError

#: The fine-tuning keys of a model node; the runner removes them before building.
FINETUNE_KEYS = ("init_from", "init_sha256", "freeze")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_REGISTRY = "models:/"


@dataclass(frozen=True)
class FineTune:
    """What a model node asks for besides building its class.

    Args:
        init_from: Where the starting weights are: a file, an ``http(s)://`` URL or
            ``models:/NAME/VERSION``; ``None`` keeps the fresh initialization.
        init_sha256: The SHA-256 the ``init_from`` file must have (required for URLs).
        freeze: Names of the parts that do not train (module or parameter names, or
            prefixes of them at a dot).
    """

    init_from: str | None = None
    init_sha256: str | None = None
    freeze: tuple[str, ...] = ()


def is_url(value: str) -> bool:
    """Whether ``init_from`` names an ``http://`` or ``https://`` download.

    Args:
        value: An ``init_from`` value.
    """
    return value.lower().startswith(("http://", "https://"))


def needs_sha256(path: str, url: str) -> str:
    """The refusal of an ``init_from`` URL given without its SHA-256.

    Args:
        path: The model node's key.
        url: The URL.
    """
    return (
        f"{path}.init_from={url} is a download: give its SHA-256 too "
        f"({path}.init_sha256=<64 hex digits>; sha256sum FILE prints it), so that the file "
        "is verified before it is loaded"
    )


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(
        isinstance(name, str) and name.strip() for name in names
    ):
        raise ConfigError(
            f"{where}={value!r} must be a list of part names, such as [net.features] "
            "(one name alone is also taken)"
        )
    return tuple(dict.fromkeys(name.strip() for name in names))


def split_finetune(node: Mapping[str, Any], path: str = "model") -> tuple[dict[str, Any], FineTune]:
    """Separate a model node's fine-tuning keys from what is built.

    Args:
        node: A resolved model config node.
        path: The node's key, for messages.

    Returns:
        The node without ``init_from``, ``init_sha256`` and ``freeze``, and their values.

    Raises:
        ConfigError: A value of the wrong kind, a malformed SHA-256, or a URL without one.
    """
    built = {str(key): value for key, value in node.items() if key not in FINETUNE_KEYS}
    init_from, sha256 = node.get("init_from"), node.get("init_sha256")
    if isinstance(init_from, Path):
        init_from = str(init_from)
    if init_from is not None and (not isinstance(init_from, str) or not init_from.strip()):
        raise ConfigError(
            f"{path}.init_from={init_from!r} must be a checkpoint or weights file, an "
            "http(s):// URL or models:/NAME/VERSION"
        )
    if init_from is None:
        sha256 = None  # a model config's digest of its own weights, when they are not used
    elif sha256 is not None and (not isinstance(sha256, str) or not _SHA256.fullmatch(sha256)):
        raise ConfigError(
            f"{path}.init_sha256={sha256!r} must be the 64-hex-digit SHA-256 of "
            f"{path}.init_from (sha256sum FILE prints it)"
        )
    if init_from is not None and is_url(init_from) and sha256 is None:
        raise ConfigError(needs_sha256(path, init_from))
    settings = FineTune(
        init_from.strip() if init_from else None,
        sha256.lower() if sha256 else None,
        _names(node.get("freeze"), f"{path}.freeze"),
    )
    return built, settings


def _verified(path: Path, sha256: str | None, label: str) -> Path:
    if sha256 is None:
        return path
    from pegboard.download import file_digest

    digest = file_digest(path, "sha256")
    if digest != sha256:
        raise ConfigError(f"{label}: {path} has SHA-256 {digest}, not model.init_sha256={sha256}")
    return path


def _download_failure(label: str, sha256: str, error: ConfigError) -> str:
    """A failed download in one line: the digest found, or each attempt's reason."""
    from pegboard.download import DownloadError

    if isinstance(error, DownloadError) and error.mismatched:
        return (
            f"{label}: the file there has SHA-256 {error.mismatched[-1]}, not "
            f"model.init_sha256={sha256}; nothing was loaded"
        )
    return f"{label}: " + " ".join(line.strip() for line in str(error).splitlines())


def weights_path(init_from: str, sha256: str | None, tracking_uri: str | None) -> Path:
    """The local file that ``init_from`` names, fetched (and verified) when it is remote.

    Args:
        init_from: A file, an ``http(s)://`` URL or ``models:/NAME/VERSION``.
        sha256: The digest the file must have (required for a URL).
        tracking_uri: The MLflow store of ``models:/`` sources (``paths.tracking_uri``).

    Raises:
        ConfigError: Another scheme, a missing file, no tracking URI, or a digest that differs.
    """
    label = f"model.init_from={init_from}"
    sha256 = sha256.strip().lower() if sha256 else None
    if is_url(init_from):
        from pegboard.weights import cached_weights

        if sha256 is None:
            raise ConfigError(needs_sha256("model", init_from))
        try:
            return cached_weights(init_from, sha256)
        except ConfigError as error:
            raise ConfigError(_download_failure(label, sha256, error)) from error
    if init_from.startswith(_REGISTRY):
        if not tracking_uri:
            raise ConfigError(f"{label}: a registered model needs paths.tracking_uri (the store)")
        from pegboard.runner.registry import registered_checkpoint

        return _verified(registered_checkpoint(init_from, str(tracking_uri)), sha256, label)
    local = init_from.removeprefix("file://")
    if "://" in local:
        raise ConfigError(
            f"{label}: give a checkpoint or weights file, an http(s):// URL (with "
            "model.init_sha256) or models:/NAME/VERSION"
        )
    path = Path(local).expanduser()
    if not path.is_file():
        raise ConfigError(f"{label}: no such file" + (" (a folder)" if path.is_dir() else ""))
    return _verified(path, sha256, label)


def start_finetuning(
    model: Any, settings: FineTune, cfg: Any, resumed_from: str | None = None
) -> list[Any]:
    """Load ``init_from``'s weights into a built model and freeze the parts named.

    A resumed run (``ckpt_path``) never re-initializes: its checkpoint's weights win and
    ``init_from`` is only mentioned. Its frozen parts are frozen again, as the optimizer
    state it saved expects.

    Args:
        model: The built LightningModule.
        settings: The model node's fine-tuning settings (``split_finetune``).
        cfg: The run's config, for ``paths.tracking_uri`` (``models:/`` sources).
        resumed_from: The checkpoint training continues from, if any.

    Returns:
        The callbacks that keep the frozen parts in eval mode (empty when none is frozen).

    Raises:
        ConfigError: The weights cannot be fetched or read, none of them fits the model,
            or ``freeze`` names nothing of it (or all of it).
    """
    import logging

    log = logging.getLogger(__name__)
    loaded = None
    if settings.init_from and resumed_from:
        log.info(
            "model.init_from=%s is not loaded: training continues from %s, whose own weights win",
            settings.init_from,
            resumed_from,
        )
    elif settings.init_from:
        from pegboard.runner.init_weights import init_weights

        # Only models:/ sources read it; a DictConfig resolves it here, on demand.
        tracking_uri = (cfg.get("paths") or {}).get("tracking_uri")
        loaded = init_weights(model, settings.init_from, settings.init_sha256, tracking_uri)
        log.info(loaded.line)
    if not settings.freeze:
        return []
    from pegboard.runner.freeze import KeepFrozen, freeze

    frozen = freeze(model, settings.freeze)
    log.info(frozen.summary)
    fresh = [name for name in frozen.parameters if loaded and name not in loaded.names]
    if fresh:  # frozen at their random start: most likely not what was meant
        log.warning(
            "model.freeze keeps %d tensors that model.init_from did not load at their random "
            "initialization for the whole run: %s",
            len(fresh),
            ", ".join(fresh),
        )
    return [KeepFrozen(frozen.modules)]


__all__ = [
    "FINETUNE_KEYS",
    "FineTune",
    "is_url",
    "needs_sha256",
    "split_finetune",
    "start_finetuning",
    "weights_path",
]
