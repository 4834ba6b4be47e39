"""The namespaces of torch, Lightning and Optuna whose classes exist to be configured.

A config may build an optimizer, an LR scheduler, a layer, a callback, a logger, a
strategy, a plugin or a profiler: a class exported by one of the modules below that
derives from the base named beside it. Nothing else under torch or Lightning is allowed
(no functions, no ``torch.save``, no ``torch.fx`` internals): the set of allowed names
is computed from the namespace modules themselves, and a target must be one of them,
exactly.

Computing the set imports the namespace module (a fixed, installed module, never one a
config names) and reads its attributes; no attribute is called.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys

#: Namespace module -> dotted base classes; a class exported there must derive from one.
_NAMESPACES: dict[str, tuple[str, ...]] = {
    "torch.nn": ("torch.nn.Module",),
    "torch.optim": ("torch.optim.Optimizer",),
    "torch.optim.lr_scheduler": (
        "torch.optim.lr_scheduler.LRScheduler",
        "torch.optim.lr_scheduler.ReduceLROnPlateau",
    ),
    "torch.optim.swa_utils": ("torch.nn.Module", "torch.optim.lr_scheduler.LRScheduler"),
    "pytorch_lightning": ("pytorch_lightning.Trainer",),
    "pytorch_lightning.callbacks": ("pytorch_lightning.callbacks.Callback",),
    "pytorch_lightning.loggers": ("pytorch_lightning.loggers.Logger",),
    "pytorch_lightning.strategies": ("pytorch_lightning.strategies.Strategy",),
    "pytorch_lightning.accelerators": ("pytorch_lightning.accelerators.Accelerator",),
    "pytorch_lightning.profilers": ("pytorch_lightning.profilers.Profiler",),
    "pytorch_lightning.plugins": (
        "pytorch_lightning.plugins.Precision",
        "pytorch_lightning.plugins.CheckpointIO",
        "pytorch_lightning.plugins.LayerSync",
        "lightning_fabric.plugins.environments.ClusterEnvironment",
    ),
    "pytorch_lightning.plugins.precision": ("pytorch_lightning.plugins.Precision",),
    "pytorch_lightning.plugins.io": ("pytorch_lightning.plugins.CheckpointIO",),
    "pytorch_lightning.plugins.environments": (
        "lightning_fabric.plugins.environments.ClusterEnvironment",
    ),
    "lightning_fabric.plugins": (
        "lightning_fabric.plugins.CheckpointIO",
        "lightning_fabric.plugins.Precision",
        "lightning_fabric.plugins.environments.ClusterEnvironment",
    ),
    "torchmetrics": ("torchmetrics.Metric",),
    "optuna.samplers": ("optuna.samplers.BaseSampler",),
    "optuna.pruners": ("optuna.pruners.BasePruner",),
}


def _mirrored() -> dict[str, tuple[str, ...]]:
    """The same namespaces under the unified ``lightning`` package."""
    renames = {"pytorch_lightning": "lightning.pytorch", "lightning_fabric": "lightning.fabric"}

    def rename(dotted: str) -> str:
        for old, new in renames.items():
            if dotted == old or dotted.startswith(old + "."):
                return new + dotted[len(old) :]
        return dotted

    return {
        rename(name): tuple(rename(base) for base in bases)
        for name, bases in _NAMESPACES.items()
        if rename(name) != name
    }


NAMESPACES: dict[str, tuple[str, ...]] = {**_NAMESPACES, **_mirrored()}


def _installed(module: str) -> bool:
    # find_spec of a top-level name asks the path finders only: no module code runs.
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _resolve(dotted: str) -> type | None:
    module, _, name = dotted.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if isinstance(found, type) else None


@functools.cache
def namespace_classes(namespace: str) -> frozenset[str]:
    """Every dotted name under which a config may build a class of ``namespace``.

    A class counts under its exported name (``torch.optim.AdamW``) and under its
    defining module (``torch.optim.adamw.AdamW``), which is how Lightning and Hydra
    write it when they record a config.

    Args:
        namespace: A key of ``NAMESPACES``.
    """
    if not _installed(namespace):
        return frozenset()
    bases = tuple(base for base in map(_resolve, NAMESPACES[namespace]) if base is not None)
    try:
        module = importlib.import_module(namespace)
    except ImportError:
        return frozenset()
    names: set[str] = set()
    for name, value in vars(module).items():
        if name.startswith("_") or not isinstance(value, type) or not bases:
            continue
        if issubclass(value, bases):
            names.add(f"{namespace}.{name}")
            home, qualname = value.__module__, str(getattr(value, "__qualname__", ""))
            if getattr(sys.modules.get(home), qualname, None) is value:
                names.add(f"{home}.{qualname}")
    return frozenset(names)


def namespaces_for(target: str) -> list[str]:
    """The namespaces whose allowed names ``target`` could be one of (by its spelling).

    Args:
        target: A dotted path.
    """
    return [name for name in NAMESPACES if target.startswith(name + ".")]


def is_configurable_class(target: str) -> bool:
    """Whether ``target`` is exactly a configurable class of torch, Lightning or Optuna.

    Args:
        target: A dotted path as written in ``_target_``.
    """
    return any(target in namespace_classes(name) for name in namespaces_for(target))


__all__ = ["NAMESPACES", "is_configurable_class", "namespace_classes", "namespaces_for"]
