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

from omegaconf import OmegaConf

from pegboard.errors import ConfigError

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


def command_line_overrides() -> list[str]:
    """The overrides the running Hydra job was started with (none outside Hydra)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return [str(line) for line in HydraConfig.get().overrides.task]


__all__ = ["RESUME_KEYS", "command_line_overrides", "continued_config", "continued_folder"]
