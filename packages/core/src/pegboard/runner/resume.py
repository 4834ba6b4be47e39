"""``pegboard train ckpt_path=last``: continue a run with its own config, in a linked folder.

A run is continued from its checkpoint with the config stored in that checkpoint, not
with whatever the command line composes today (another ``max_epochs``, another seed).
The resume line's own overrides (``trainer.max_epochs=60``) apply on top, and every
difference is printed. Paths of the old run folder are moved to the new one, which is
named after it (``<run>_resumed``), so the interrupted run is never written over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pegboard.config_guard import check_checkpoint_config, check_config
from pegboard.errors import ConfigError
from pegboard.runner._console import echo
from pegboard.runner.checkpoint import record_of
from pegboard.runner.checkpoint_io import load_checkpoint
from pegboard.runner.metadata import CHECKPOINT_KEY
from pegboard.runner.requeue import restart_checkpoint
from pegboard.runner.run_search import NoCheckpoint, resolve_checkpoint

#: Keys that say what to continue; they are not changes to the run.
RESUME_KEYS = ("ckpt_path", "run", "resume")
_RESUMED = re.compile(r"(_resumed(_\d+)?)+$")


def continued_folder(run: Path) -> Path:
    """The folder a continuation of ``run`` asks for: ``<run>_resumed`` (before claiming).

    Args:
        run: The run being continued (itself perhaps a continuation).
    """
    return run.with_name(_RESUMED.sub("", run.name) + "_resumed")


def _flat(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield from _flat(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), tree


def _rerooted(tree: Any, old: str, new: str) -> Any:
    if isinstance(tree, Mapping):
        return {key: _rerooted(value, old, new) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_rerooted(value, old, new) for value in tree]
    if isinstance(tree, str) and (tree == old or tree.startswith(old + "/")):
        return new + tree[len(old) :]
    return tree


def continued_config(
    stored: Mapping[str, Any],
    overrides: Sequence[str],
    run_dir: Path,
    composed: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The stored config of a run, its folder moved to ``run_dir``, the overrides on top.

    Args:
        stored: The resolved config the checkpoint carries.
        overrides: The resume command line's overrides (``key=value``, ``+key=value``,
            ``~key``); ``ckpt_path``, ``run``, ``resume`` and ``hydra.*`` are skipped.
        run_dir: The folder the continuation writes to.
        composed: The config the resume line composes; a group option it repeats
            (``model=mlp`` again) is accepted when it builds the same class.

    Returns:
        The config to continue with, and one line per value the overrides changed.

    Raises:
        ConfigError: An override swaps a whole group (``model=mlp``) or sweeps.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    old_dir = str((stored.get("paths") or {}).get("output_dir") or "")
    base = _rerooted(dict(stored), old_dir, str(run_dir)) if old_dir else dict(stored)
    config = OmegaConf.create(base)
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key.split(".")[0] in RESUME_KEYS or key.startswith("hydra"):
            continue
        if override.is_sweep_override():
            raise ConfigError(f"{override.input_line}: a continued run takes one value")
        value = None if override.is_delete() else override.value()
        if "." not in key and isinstance(base.get(key), Mapping) and isinstance(value, str):
            chosen = (composed or {}).get(key)
            if isinstance(chosen, Mapping) and chosen.get("_target_") == base[key].get("_target_"):
                continue  # the same option as the run's: nothing to change
            raise ConfigError(
                f"{override.input_line}: a continued run keeps its own {key}; to train "
                f"another {key}, start a new run (leave out ckpt_path)"
            )
        if override.is_delete():
            parent, _, leaf = key.rpartition(".")
            node = OmegaConf.select(config, parent) if parent else config
            if node is not None and leaf in node:
                del node[leaf]
        else:
            OmegaConf.update(config, key, value, merge=False, force_add=True)
    result = OmegaConf.to_container(config, resolve=True)
    assert isinstance(result, dict)
    before, after = dict(_flat(base)), dict(_flat(result))
    changes = [
        f"{key}: {before.get(key, '(absent)')!r} -> {after.get(key, '(removed)')!r}"
        for key in sorted(set(before) | set(after))
        if before.get(key, ...) != after.get(key, ...)
    ]
    return {str(key): value for key, value in result.items()}, changes


def resume_hint(run_dir: Path) -> list[str]:
    """What to print when a signal stopped a training run: where its state is, how to go on.

    Args:
        run_dir: The interrupted run's folder.
    """
    lines = [
        f"{run_dir / 'checkpoints' / 'last.ckpt'} holds the state (when training had begun).",
        f"Continue with: pegboard train ckpt_path=last run={run_dir}{_choices()}",
    ]
    if _in_sweep():
        lines.append(
            "It is one job of a sweep: rerun the sweep's command to continue an Optuna sweep "
            "(hparams_search=...) where it stopped."
        )
    return lines


def _in_sweep() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _choices() -> str:
    """`` model=... data=...`` as this run chose them: the resume line composes with them."""
    from pegboard.runner.task_fit import runtime_choices

    choices = runtime_choices()
    return "".join(
        f" {group}={choices[group]}" for group in ("model", "data") if choices.get(group)
    )


def resume_checkpoint(cfg: DictConfig, run_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The checkpoint that ``ckpt_path`` / ``resume`` ask training to continue from.

    Args:
        cfg: The train config: ``ckpt_path`` (a file, ``last``, or null), ``resume``
            (true means ``ckpt_path=last``) and ``run`` (the run to continue; without
            it, the newest run that did not complete).
        run_dir: This run's directory, never picked as the one to continue.

    Returns:
        The file and its contents, or ``None`` when training starts afresh.
    """
    value = cfg.get("ckpt_path")
    if value is None and cfg.get("resume"):
        value = "last"
    if value is None:
        return None
    runs_dir = Path(cfg.paths.log_dir) / "train" / "runs"
    if str(value) == "last":
        found = resolve_checkpoint("last", runs_dir, cfg.get("run"), run_dir, unfinished=True)
        echo(f"Resuming from {found[0]}")
        return found
    path = Path(str(value))
    return path, load_checkpoint(path)  # a missing or corrupt file is refused before building


def continuation(
    cfg: DictConfig, resolved: dict[str, Any], run_dir: Path
) -> tuple[str | None, dict[str, Any]]:
    """The checkpoint to continue from and the config to continue with (see ``resume``)."""
    restarted = restart_checkpoint(cfg, run_dir)  # a requeued SLURM job resumes itself
    if restarted is not None:
        return restarted
    try:
        found = resume_checkpoint(cfg, run_dir)
    except NoCheckpoint as missing:
        return None, _started_over(missing.run, resolved, run_dir)
    if found is None:
        return None, resolved
    path, checkpoint = found
    if CHECKPOINT_KEY not in checkpoint:  # a Lightning checkpoint of another tool
        echo(f"{path} records no pegboard config: training continues with this config")
        return str(path), resolved
    record = record_of(checkpoint, path)
    check_checkpoint_config(record.config, checkpoint, path)
    overrides = command_line_overrides()
    config, changes = continued_config(record.config, overrides, run_dir, resolved)
    check_config(config)
    config["ckpt_path"] = str(path)
    echo(
        f"Continuing with the config stored in {path.name}"
        + (": " + "; ".join(changes) if changes else " (the command line changes nothing)")
    )
    return str(path), config


def _started_over(run: Path, resolved: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The config of a run stopped before its first checkpoint: it starts over with it."""
    from omegaconf import OmegaConf

    recorded = run / "config.yaml"
    if not recorded.is_file():
        raise ConfigError(
            f"run {run} stopped before it wrote its config, so there is nothing to continue: "
            "run the original command again"
        )
    loaded = OmegaConf.to_container(OmegaConf.load(recorded), resolve=False)
    assert isinstance(loaded, dict)
    stored = {str(key): value for key, value in loaded.items()}
    # A file of a run folder is data like a checkpoint, and is held to the same rules.
    check_checkpoint_config(stored, {}, recorded)
    config, changes = continued_config(stored, command_line_overrides(), run_dir, resolved)
    check_config(config)
    echo(
        f"Run {run} stopped before its first checkpoint: starting it over with its config"
        + (": " + "; ".join(changes) if changes else "")
    )
    return config


def command_line_overrides() -> list[str]:
    """The overrides the running Hydra job was started with (none outside Hydra)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return [str(line) for line in HydraConfig.get().overrides.task]


__all__ = [
    "RESUME_KEYS",
    "command_line_overrides",
    "continuation",
    "continued_config",
    "continued_folder",
    "resume_checkpoint",
    "resume_hint",
]
