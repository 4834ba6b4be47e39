"""What eval, predict and export share: open ``ckpt_path`` and rebuild the run it came from.

The checkpoint file is read once, here: the model is rebuilt from that read, and the
Trainer of ``eval`` and ``predict`` is given the model and the datamodule state from it
rather than the path (which Lightning would read again).

Each of those stages composes its own primary config, whose ``model`` and ``data``
groups default to nothing. The model always comes from the checkpoint (its class from
the stored config, its weights and constructor values from the file); ``data`` comes
from the checkpoint too unless the command line chose one (``data=mnist``), and keys
given as ``+data.KEY=VALUE`` are merged over the stored data config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, ListConfig, OmegaConf

from pegboard._compat import module_from_checkpoint
from pegboard.config_guard import check_checkpoint_config, check_config
from pegboard.errors import ConfigError
from pegboard.runner.build import build, check_nodes, named_nodes, resolve
from pegboard.runner.checkpoint import Record, model_class, record_of, warn_pack_differences
from pegboard.runner.data_state import RestoreDataState, data_class, saved_data_state
from pegboard.runner.lifecycle import Outcome, run_in_directory
from pegboard.runner.quiet import plain_progress
from pegboard.runner.registry import is_model_uri, registered_checkpoint
from pegboard.runner.run_search import resolve_checkpoint
from pegboard.runner.tracking import build_loggers, run_tags
from pegboard.runtime import pack_versions

#: Data keys that make a datamodule write files (downloads, decoded caches).
_WRITING_DATA_KEYS = ("download", "cache")


@dataclass
class Restored:
    """A checkpoint opened for a stage.

    Args:
        path: The checkpoint file.
        checkpoint: Its loaded contents.
        record: The config and pack versions it stores.
        model: The model rebuilt from it, in eval mode, on the CPU.
        config: The stage's resolved config with ``model`` and ``data`` filled in.
        data_state: The state its training datamodule saved (class names,
            normalization), by Lightning's key for that class; empty when none.
    """

    path: Path
    checkpoint: dict[str, Any]
    record: Record
    model: Any
    config: dict[str, Any]
    data_state: dict[str, Any]

    @property
    def input_shape(self) -> list[int]:
        """The shape of one input, from the data config or the model's hyperparameters."""
        shape = (self.config.get("data") or {}).get("input_shape")
        shape = shape or getattr(self.model, "hparams", {}).get("input_shape")
        if not shape:
            raise ConfigError(
                f"{self.path} records no input shape (data.input_shape); "
                "give one with +data.input_shape=[C,H,W]"
            )
        return [int(d) for d in shape]


def _plain(node: Any) -> Any:
    if isinstance(node, DictConfig | ListConfig):
        return OmegaConf.to_container(node, resolve=True)
    return node


def _data_config(cfg: DictConfig, record: Record) -> dict[str, Any]:
    stored = dict(record.config.get("data") or {})
    # A checkpoint from elsewhere never makes this machine download or write a cache
    # into the folder it names: +data.download=true asks for it on purpose.
    stored.update({key: False for key in _WRITING_DATA_KEYS if stored.get(key)})
    given = cfg.get("data")
    if given is None:
        return stored
    chosen = resolve(given)
    if "_target_" in chosen:  # data=NAME on the command line: test on other data
        return chosen
    merged = OmegaConf.to_container(OmegaConf.merge(stored, chosen), resolve=True)
    assert isinstance(merged, dict)
    return {str(key): value for key, value in merged.items()}


def open_checkpoint(cfg: DictConfig, command: str) -> Restored:
    """Resolve ``cfg.ckpt_path``, check it, warn about pack versions, rebuild the model.

    Args:
        cfg: The stage's composed config (``ckpt_path``, ``run``, ``paths``, optional
            ``model`` and ``data``).
        command: The stage's name, for messages.

    Raises:
        ConfigError: No ``ckpt_path``, an unreadable file, a checkpoint not written by
            pegboard, a model class that is not a LightningModule or not the one
            ``model=`` asks for.
    """
    value = cfg.get("ckpt_path")
    if not value:
        raise ConfigError(
            f"pegboard {command} needs ckpt_path=FILE (or ckpt_path=last / ckpt_path=best "
            "for the newest training run, or ckpt_path=models:/NAME/VERSION)"
        )
    runs_dir = Path(str(cfg.paths.log_dir)) / "train" / "runs"
    if is_model_uri(value):
        value = registered_checkpoint(str(value), str(cfg.paths.tracking_uri))
    path, checkpoint = resolve_checkpoint(value, runs_dir, cfg.get("run"))
    record = record_of(checkpoint, path)
    check_checkpoint_config(record.config, checkpoint, path)
    warn_pack_differences(record, pack_versions(), path)
    requested = OmegaConf.select(cfg, "model._target_", default=None)
    cls = model_class(record, path, str(requested) if requested else None)
    try:
        model = module_from_checkpoint(cls, checkpoint)
    except Exception as error:
        raise ConfigError(
            f"ckpt_path={path}: cannot rebuild {cls.__name__} from it: "
            f"{type(error).__name__}: {error}"
        ) from error
    model.eval()
    # model and data are filled in below; the stage's own model node is never resolved
    # (it may interpolate a data config that this stage does not have).
    config = {str(key): _plain(cfg[key]) for key in cfg if key not in ("model", "data", "hydra")}
    config["model"] = dict(record.config.get("model") or {})
    config["data"] = _data_config(cfg, record)
    config["ckpt_path"] = str(path)
    trained_on = data_class(str((record.config.get("data") or {}).get("_target_", "")))
    return Restored(
        path, checkpoint, record, model, config, saved_data_state(checkpoint, trained_on)
    )


def run_stage(cfg: DictConfig, command: str, body: Callable[[DictConfig, Path], Outcome]) -> Any:
    """Run ``body(cfg, run_dir)`` in the stage's run directory (``run_in_directory``).

    Args:
        cfg: The stage's composed config.
        command: The stage's name, for messages.
        body: The stage's work.
    """
    # Every _target_ of the stage's own config, before anything is built (left as written:
    # nodes may interpolate a data config this stage does not have). Its model node is
    # never built, only compared with the checkpoint's class.
    tree = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(tree, dict)
    check_config({str(key): value for key, value in tree.items() if key != "model"})
    run_dir = Path(str(cfg.paths.output_dir))
    return run_in_directory(run_dir, command, lambda: body(cfg, run_dir))


def build_trainer(restored: Restored, command: str, **extra: Any) -> pl.Trainer:
    """The stage's Trainer and loggers, type-checked first, with the packs' callbacks.

    Args:
        restored: The opened checkpoint (its ``config`` holds ``trainer`` and ``logger``).
        command: ``"eval"`` or ``"predict"``, for the packs' ``pegboard_callbacks``.
        **extra: More Trainer arguments (callbacks).
    """
    from pegboard.hooks import pack_hooks

    config = restored.config
    loggers = named_nodes(config, "logger")
    check_nodes(
        [("trainer", config["trainer"]), *((f"logger.{n}", node) for n, node in loggers.items())]
    )
    run_dir = Path(str(config["paths"]["output_dir"]))
    built = build_loggers(loggers, run_dir, run_tags(config, run_dir, command))
    node = dict(config["trainer"])
    callbacks = [
        RestoreDataState(restored.checkpoint),
        *(extra.pop("callbacks", None) or []),
        *pack_hooks().callbacks(config, command),
    ]
    callbacks = plain_progress(node, callbacks, epochs=False)
    trainer: pl.Trainer = build(
        node, "trainer", logger=built or False, callbacks=callbacks, **extra
    )
    return trainer


__all__ = ["Restored", "build_trainer", "open_checkpoint", "run_stage"]
