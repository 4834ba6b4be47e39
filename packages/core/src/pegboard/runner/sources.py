"""What a command will fetch or reach, checked before its run folder is made.

A tracking server that does not answer, a registered model that does not exist (the
message lists those that are), ``register=NAME`` with a name URIs cannot carry, an
``init_from`` that names no file or a URL without its SHA-256: each is one line, and no
run folder is left behind. Registered checkpoints are fetched into the cache here; the
job then reads the cached file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _check_loggers(cfg: Any) -> None:
    from omegaconf import OmegaConf

    from pegboard.runner.mlflow_store import check_reachable
    from pegboard.runner.tracking import is_mlflow

    loggers = cfg.get("logger") or {}
    for name in loggers:
        if isinstance(loggers[name], Mapping) and is_mlflow(loggers[name]):
            key = f"logger.{name}.tracking_uri"
            check_reachable(str(OmegaConf.select(cfg, key, default="")), key)


def _check_init_from(cfg: Any) -> None:
    from omegaconf import OmegaConf

    from pegboard.runner.finetune import FINETUNE_KEYS, is_url, split_finetune, weights_path

    node = OmegaConf.masked_copy(cfg.model, list(FINETUNE_KEYS))
    container = OmegaConf.to_container(node, resolve=True)
    assert isinstance(container, dict)
    if not container.get("init_from") or cfg.get("ckpt_path") or cfg.get("resume"):
        return  # a resumed run never re-initializes
    settings = split_finetune({str(key): value for key, value in container.items()})[1]
    # A download is left to the job (it may be large); files and registered models now.
    if settings.init_from and not is_url(settings.init_from):
        weights_path(settings.init_from, settings.init_sha256, str(cfg.paths.tracking_uri))


def check_sources(cfg: Any) -> None:
    """Refuse, before the run folder, what a command could only find out later.

    Args:
        cfg: The composed config of any command.
    """
    from pegboard.runner.registry import check_name, client, is_model_uri, registered_checkpoint

    _check_loggers(cfg)
    if cfg.get("model") is not None and "init_from" in cfg.model:
        _check_init_from(cfg)
    ckpt_path, register = cfg.get("ckpt_path"), cfg.get("register")
    if register:
        check_name(register)
        client(str(cfg.paths.tracking_uri))
    if is_model_uri(ckpt_path):
        registered_checkpoint(str(ckpt_path), str(cfg.paths.tracking_uri))


__all__ = ["check_sources"]
