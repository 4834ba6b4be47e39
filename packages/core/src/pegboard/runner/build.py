"""Shared by every stage: resolve config nodes, check them, build them, write run files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from pegboard.errors import ConfigError
from pegboard.runner.rundir import is_launching_process
from pegboard.runner.validate import check_node

#: Classes that need an optional extra of pegboard-core, and the extra's name.
EXTRAS = {
    "pytorch_lightning.loggers.MLFlowLogger": "mlflow",
    "pytorch_lightning.loggers.mlflow.MLFlowLogger": "mlflow",
    "pytorch_lightning.loggers.WandbLogger": "wandb",
    "pytorch_lightning.loggers.wandb.WandbLogger": "wandb",
    "pytorch_lightning.callbacks.RichProgressBar": "rich",
    "pytorch_lightning.callbacks.RichModelSummary": "rich",
}


def _missing_keys(node: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose value is ``???``, found without resolving anything.

    ``OmegaConf.missing_keys`` resolves interpolations on its way, and so fails on the
    very gap it should report.
    """
    if isinstance(node, dict):
        items: Iterable[tuple[Any, Any]] = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return [prefix.rstrip(".")] if node == "???" else []
    return [key for name, child in items for key in _missing_keys(child, f"{prefix}{name}.")]


def missing_value_error(tree: Any) -> None:
    """Refuse a config whose required values (``???``) are not set, naming every one.

    Args:
        tree: The config as plain containers, interpolations left in.
    """
    missing = _missing_keys(tree)
    if missing:
        # Some options have no default (data=image_folder needs data.num_classes);
        # without this, OmegaConf names whichever interpolation reached the gap first.
        settings = " ".join(f"{key}=VALUE" for key in missing)
        raise ConfigError(
            f"{', '.join(missing)} must be set: the config has no default for "
            f"{'it' if len(missing) == 1 else 'them'}. Add {settings} to the command line"
        )


#: The seeds numpy (and so ``seed_everything``) accepts.
SEED_RANGE = (0, 2**32 - 1)


def check_seed(value: Any) -> None:
    """Refuse a ``seed`` that ``seed_everything`` would reject deep in the run.

    Args:
        value: The config's ``seed``.
    """
    low, high = SEED_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"seed={value!r} must be a whole number from {low} to {high}")


def check_log_dir(value: Any) -> None:
    """Refuse a ``paths.log_dir`` that cannot hold run folders, before any is made.

    Args:
        value: The resolved ``paths.log_dir`` (``PEGBOARD_LOG_DIR``).
    """
    folder = Path(str(value))
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    where = f"paths.log_dir={value} (PEGBOARD_LOG_DIR)"
    if not existing.is_dir():
        raise ConfigError(f"{where}: {existing} is a file; runs need a folder there")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: {existing} is not writable; choose a folder you can write")


def resolve(cfg: Any) -> dict[str, Any]:
    """The config with every interpolation resolved, as plain dicts and lists.

    Args:
        cfg: A composed config node (or a plain mapping, returned as a dict).
    """
    if not isinstance(cfg, DictConfig):
        return dict(cfg)
    missing_value_error(OmegaConf.to_container(cfg, resolve=False))
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return {str(key): value for key, value in container.items()}


def named_nodes(cfg: Mapping[str, Any], group: str) -> dict[str, Any]:
    """The buildable entries (those with a ``_target_``) of a group such as ``callbacks``.

    Args:
        cfg: The resolved config.
        group: The group's key.
    """
    node = cfg.get(group) or {}
    return {
        str(name): sub
        for name, sub in node.items()
        if isinstance(sub, Mapping) and "_target_" in sub
    }


def check_nodes(nodes: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Type-check config nodes against their targets' signatures, in the order given.

    Args:
        nodes: ``(path, node)`` pairs; ``path`` is how the user writes the key.
    """
    for path, node in nodes:
        check_node(dict(node), path)


def build(node: Mapping[str, Any], path: str, **extra: Any) -> Any:
    """Instantiate a config node, turning any failure into a ``ConfigError`` naming ``path``.

    Args:
        node: A resolved node with a ``_target_``.
        path: The node's key, for the message.
        **extra: Objects passed to the target besides the node's values.
    """
    try:
        # _convert_="all": objects receive plain lists and dicts, so a model's saved
        # hyperparameters are primitives that load with torch.load(weights_only=True).
        return instantiate(node, _convert_="all", **extra)
    except Exception as error:
        cause = error.__cause__ or error
        target = str(node.get("_target_"))
        if isinstance(cause, ModuleNotFoundError | ImportError) and target in EXTRAS:
            raise ConfigError(
                f"{path} ({target}) needs an optional package: "
                f"pip install pegboard-core[{EXTRAS[target]}] ({cause})"
            ) from error
        raise ConfigError(
            f"could not build {path} ({target}): {type(cause).__name__}: {cause}"
        ) from error


def write_run_files(run_dir: Path, config: Mapping[str, Any], packs: Mapping[str, str]) -> None:
    """Write ``config.yaml`` and ``packs.json`` (on the launching process only).

    Args:
        run_dir: The run directory.
        config: The resolved config.
        packs: Distribution name to version.
    """
    if not is_launching_process():
        return
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(dict(config)))
    (run_dir / "packs.json").write_text(json.dumps(dict(packs), indent=2, sort_keys=True))


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON (on the launching process only).

    Args:
        path: The file.
        payload: Plain values.
    """
    if is_launching_process():
        path.write_text(json.dumps(payload, indent=2, sort_keys=True))


def scalar_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Metrics as plain floats, sorted by name.

    Args:
        metrics: Names to tensors or numbers.
    """
    return {name: float(value) for name, value in sorted(metrics.items())}


def print_config_tree(config: Mapping[str, Any], first: Iterable[str] = ()) -> None:
    """Print the resolved config as a rich tree, one branch per top-level key.

    Args:
        config: The resolved config.
        first: Keys to show first (the ones people look for: model, data, trainer).
    """
    if not is_launching_process():
        return
    from rich.console import Console
    from rich.syntax import Syntax
    from rich.tree import Tree

    order = [key for key in first if key in config]
    order += [key for key in config if key not in order]
    tree = Tree("config", guide_style="dim")
    for key in order:
        branch = tree.add(f"[bold]{key}[/bold]")
        value = config[key]
        text = OmegaConf.to_yaml(value) if isinstance(value, Mapping | list) else str(value)
        branch.add(Syntax(text.rstrip() or "null", "yaml", theme="ansi_dark"))
    # soft_wrap: long values are printed whole, never cut at the terminal width.
    Console(soft_wrap=True).print(tree)


__all__ = [
    "EXTRAS",
    "SEED_RANGE",
    "build",
    "check_log_dir",
    "check_nodes",
    "check_seed",
    "missing_value_error",
    "named_nodes",
    "print_config_tree",
    "resolve",
    "scalar_metrics",
    "write_json",
    "write_run_files",
]
