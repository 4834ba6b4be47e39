"""Which ``_target_`` a config may name: an exact allow-list, checked before any import.

A config is data, but Hydra turns a ``_target_`` into an import and a call. Configs come
from packs, from the project, from the command line and from checkpoints downloaded from
anywhere, so every target is checked here, as a string, before anything imports it. A
target is allowed when it is exactly one of:

* a class that an active pack's manifest advertises (``Plugin.models`` and
  ``Plugin.datamodules``), registered by the launcher with
  ``pegboard.runtime.set_plugin_classes``;
* a configurable class of torch, Lightning or Optuna: a class exported by a namespace
  that exists to be configured (optimizers, LR schedulers, ``torch.nn`` modules,
  callbacks, loggers, strategies, accelerators, plugins, profilers, metrics, samplers),
  derived from that namespace's base class (``pegboard._namespaces``);
* one of pegboard's own configurable classes (``PEGBOARD_TARGETS``);
* a class defined in a module of the project in the working directory
  (``pegboard._project``);
* a Hydra sweeper or launcher class, at ``hydra.sweeper`` or ``hydra.launcher`` only;
* a name listed in ``PEGBOARD_ALLOW_TARGETS`` (comma-separated): that exact target, or
  anything under it when it names a module. This is the one way to allow a function.

There is no prefix rule and no list of dangerous names to get wrong: ``torch.save``,
``torch.fx.graph_module._exec_with_source`` or ``my_net.os.system`` are refused because
they are not on the list.

Without the launcher (core used as a library, the conformance kit), the classes of the
installed packs' manifests are allowed instead.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pegboard._compat import BASIC_LAUNCHER, BASIC_SWEEPER
from pegboard.errors import ConfigError

#: Environment variable: comma-separated targets (or modules) to allow on purpose.
ALLOW_ENV = "PEGBOARD_ALLOW_TARGETS"
#: pegboard's own classes that configs may name.
PEGBOARD_TARGETS = frozenset(
    {
        "pegboard.runner.rundir.UniqueRunDir",
        "pegboard.runner.sweep.MultirunSummary",
        "pegboard.testing.models.LinearClassifier",
        "pegboard.testing.models.LinearRegressor",
        "pegboard.testing.datamodule.RandomImageDataModule",
        "pegboard.testing.datamodule.RandomValuesDataModule",
    }
)
#: pegboard's own model and data classes: what a checkpoint may name besides packs'.
PEGBOARD_ADVERTISED = frozenset(
    {
        "pegboard.testing.models.LinearClassifier",
        "pegboard.testing.models.LinearRegressor",
        "pegboard.testing.datamodule.RandomImageDataModule",
        "pegboard.testing.datamodule.RandomValuesDataModule",
    }
)
#: Hydra's sweepers and launchers (Hydra itself only builds registered plugin classes).
HYDRA_PLUGIN_TARGETS = frozenset(
    {
        BASIC_SWEEPER,
        BASIC_LAUNCHER,
        "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper",
        "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher",
        "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
        "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher",
    }
)
_HYDRA_PLUGIN_PATHS = ("hydra.sweeper", "hydra.launcher")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_KINDS = (
    "the classes that active packs advertise, the configurable classes of torch, "
    "Lightning and Optuna (optimizers, LR schedulers, nn modules, callbacks, loggers, "
    "strategies, plugins, profilers), pegboard's own and classes defined in the project's "
    "modules"
)


def _installed_manifest_targets() -> frozenset[str]:
    from importlib.metadata import entry_points

    from pegboard.plugin import ENTRY_POINT_GROUP, Plugin

    found: set[str] = set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            manifest = ep.load()
        except Exception:  # a broken pack is the launcher's to report; it adds nothing
            continue
        if isinstance(manifest, Plugin) and manifest.supported:
            found |= manifest.targets
    return frozenset(found)


@functools.cache
def _installed_pack_targets() -> frozenset[str]:
    # Cached: metadata is scanned once per process, like the launcher's discovery.
    return _installed_manifest_targets()


def pack_targets() -> frozenset[str]:
    """The classes the active packs advertise, as dotted ``_target_`` paths."""
    from pegboard.runtime import plugin_classes

    registered = plugin_classes()
    return registered if registered is not None else _installed_pack_targets()


def _env_allowed() -> frozenset[str]:
    raw = os.environ.get(ALLOW_ENV, "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def _allowed_by_env(target: str) -> bool:
    return any(target == name or target.startswith(name + ".") for name in _env_allowed())


def advertised(target: str) -> bool:
    """Whether ``target`` is a model or data class that a pack, pegboard or the project offers.

    A checkpoint's ``model`` and ``data`` nodes must name such a class.

    Args:
        target: A dotted path as written in ``_target_``.
    """
    from pegboard._project import project_class_file

    return (
        target in pack_targets()
        or target in PEGBOARD_ADVERTISED
        or project_class_file(target) is not None
        or _allowed_by_env(target)
    )


def is_allowed(target: str, path: str = "", extra: Iterable[str] = ()) -> bool:
    """Whether a config may name ``target`` at ``path``, decided without importing it.

    Args:
        target: A dotted path as written in ``_target_``.
        path: Where the node sits (``hydra.launcher`` admits Hydra's launchers).
        extra: More exact targets to allow (the pack under test, in the kit).
    """
    from pegboard._namespaces import is_configurable_class
    from pegboard._project import project_class_file

    if target in PEGBOARD_TARGETS or target in extra or target in pack_targets():
        return True
    if path in _HYDRA_PLUGIN_PATHS and target in HYDRA_PLUGIN_TARGETS:
        return True
    return (
        _allowed_by_env(target)
        or is_configurable_class(target)
        or project_class_file(target) is not None
    )


def _why_refused(target: str) -> str:
    from pegboard._namespaces import namespace_classes, namespaces_for
    from pegboard._project import is_project_module

    namespaces = namespaces_for(target)
    if namespaces:
        known = sorted(set().union(*(namespace_classes(name) for name in namespaces)))
        close = difflib.get_close_matches(target, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"it is not a configurable class of {namespaces[-1]}.{hint}"
    module = target.rpartition(".")[0]
    if is_project_module(target.split(".")[0]):
        return f"it is not a class defined at the top of the project's module {module!r}."
    return f"configs may build only {_KINDS}."


def _findable(root: str) -> bool:
    """Whether a module ``root`` exists here at all: installed, a pack's or in the project."""
    import importlib.util
    import sys
    from pathlib import Path

    if root in sys.modules or any(t.startswith(root + ".") for t in pack_targets()):
        return True
    if (Path.cwd() / f"{root}.py").exists() or (Path.cwd() / root).is_dir():
        return True
    # find_spec of a top-level name only asks the path finders: no module code runs.
    try:
        return importlib.util.find_spec(root) is not None
    except (ImportError, ValueError):
        return False


def check_target(target: Any, path: str, extra: Iterable[str] = (), key: str = "_target_") -> None:
    """Refuse a ``_target_`` that is not on the allow-list, before anything imports it.

    Args:
        target: The value of ``_target_``.
        path: Where the node sits in the config, for the message (``"model"``).
        extra: More exact targets to allow (the pack under test, in the kit).
        key: The key that holds the target, for the message (``custom_search_space``).

    Raises:
        ConfigError: The target is not a dotted name or is not on the allow-list; the
            message names the node, the target, why, and how to allow it on purpose.
    """
    where = f"{path}.{key}" if path else key
    if not isinstance(target, str) or not _DOTTED.match(target):
        raise ConfigError(
            f"{where}={target!r} is not a dotted name such as 'package.module.Class' "
            "(written out: interpolations and other values are not allowed here)"
        )
    if is_allowed(target, path, extra):
        return
    root = target.split(".")[0]
    if not _findable(root):
        # A typo rather than an attack: say so plainly (nothing was imported to know).
        raise ConfigError(
            f"{where}={target!r} cannot be imported: no module named {root!r} is installed "
            "or in the project"
        )
    raise ConfigError(
        f"{where}={target!r} is refused: {_why_refused(target)} "
        f"To allow it on purpose, set {ALLOW_ENV}={target}"
    )


def check_targets(tree: Any, path: str = "", extra: Iterable[str] = ()) -> None:
    """Check every ``_target_`` in a config tree (mappings and lists) with ``check_target``.

    Args:
        tree: A config as plain containers (resolved, or with interpolations left in:
            then an interpolated ``_target_`` is refused).
        path: Where ``tree`` sits in the config, for messages.
        extra: More exact targets to allow.
    """
    extra = frozenset(extra)
    if isinstance(tree, Mapping):
        if "_target_" in tree:
            check_target(tree["_target_"], path, extra)
        for key, value in tree.items():
            if key != "_target_":
                check_targets(value, f"{path}.{key}" if path else str(key), extra)
    elif isinstance(tree, list | tuple):
        for position, value in enumerate(tree):
            check_targets(value, f"{path}[{position}]", extra)


def _reset_caches() -> None:
    """Forget the installed packs read from metadata (for tests that install packs)."""
    _installed_pack_targets.cache_clear()


__all__ = [
    "ALLOW_ENV",
    "HYDRA_PLUGIN_TARGETS",
    "PEGBOARD_ADVERTISED",
    "PEGBOARD_TARGETS",
    "advertised",
    "check_target",
    "check_targets",
    "is_allowed",
    "pack_targets",
]
