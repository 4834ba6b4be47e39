"""The plugin manifest that every pegboard pack exports (the public plugin contract).

This module imports neither torch nor Lightning: the launcher reads manifests of every
installed pack on each start, so it must stay cheap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pegboard.errors import PluginError

#: The plugin API version that this pegboard-core writes manifests for.
API_VERSION = 2
#: Every plugin API version that this pegboard-core can load.
SUPPORTED_API_VERSIONS: frozenset[int] = frozenset({1, 2})
#: The first plugin API version whose manifests may name a hook module.
HOOKS_API = 2
#: The entry-point group in which packs declare their manifest.
ENTRY_POINT_GROUP = "pegboard.plugins"

_MODULE = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
_DOTTED_CLASS = re.compile(rf"^{_MODULE}:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_DOTTED_MODULE = re.compile(rf"^{_MODULE}$")
_OPTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Plugin:
    """What a pack offers, as plain data: nothing here is imported until it is used.

    Args:
        api: The plugin API version the pack was written for (see ``API_VERSION``).
        configs: Dotted name of a package whose sub-folders are Hydra config groups
            (``model/``, ``data/``, ``experiment/``), read through ``pkg://``.
        models: Names of the pack's ``pegboard.Model`` subclasses, mapped to
            ``"module:Class"`` strings.
        datamodules: Names of the pack's ``pegboard.DataModule`` subclasses, mapped to
            ``"module:Class"`` strings.
        hooks: Dotted name of a module of pluggy hook implementations
            (``@pegboard.hookimpl``, specs in ``pegboard.hookspecs``); API 2 and later.
            It is imported only when a command that calls hooks runs.
    """

    api: int
    configs: str | None = None
    models: Mapping[str, str] = field(default_factory=dict)
    datamodules: Mapping[str, str] = field(default_factory=dict)
    hooks: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.api, bool) or not isinstance(self.api, int):
            raise PluginError(f"Plugin.api must be an int, got {self.api!r}")
        if self.configs is not None and not (
            isinstance(self.configs, str) and _DOTTED_MODULE.match(self.configs)
        ):
            raise PluginError(
                f"Plugin.configs must be a dotted package name such as 'acme.conf', "
                f"got {self.configs!r}"
            )
        if self.hooks is not None:
            if not (isinstance(self.hooks, str) and _DOTTED_MODULE.match(self.hooks)):
                raise PluginError(
                    f"Plugin.hooks must be a dotted module name such as 'acme.hooks', "
                    f"got {self.hooks!r}"
                )
            if self.api < HOOKS_API:
                raise PluginError(
                    f"Plugin.hooks needs api={HOOKS_API} or later (this manifest says "
                    f"api={self.api}): set api={HOOKS_API}"
                )
        for kind in ("models", "datamodules"):
            entries = getattr(self, kind)
            if not isinstance(entries, Mapping):
                raise PluginError(f"Plugin.{kind} must be a mapping of name to 'module:Class'")
            for name, target in entries.items():
                if not isinstance(name, str) or not _OPTION_NAME.match(name):
                    raise PluginError(f"Plugin.{kind} has an invalid name {name!r}")
                if not isinstance(target, str) or not _DOTTED_CLASS.match(target):
                    raise PluginError(
                        f"Plugin.{kind}[{name!r}] must be a 'module:Class' string, got {target!r}"
                    )
            # Frozen copy: a manifest is shared by every caller in the process.
            object.__setattr__(self, kind, MappingProxyType(dict(entries)))

    @property
    def supported(self) -> bool:
        """Whether the installed pegboard-core can load a pack written for ``api``."""
        return self.api in SUPPORTED_API_VERSIONS

    @property
    def classes(self) -> dict[str, str]:
        """Every advertised class, models and datamodules together, by name."""
        return {**self.models, **self.datamodules}

    @property
    def targets(self) -> frozenset[str]:
        """Every advertised class as the dotted path a config's ``_target_`` names.

        ``"acme.net:AcmeNet"`` is ``acme.net.AcmeNet``: configs may build exactly these
        classes of the pack (see ``pegboard.targets``).
        """
        return frozenset(dotted.replace(":", ".") for dotted in self.classes.values())


def load_object(dotted: str) -> object:
    """Import ``"package.module:Attr.sub"`` and return the attribute.

    Args:
        dotted: A ``module:attribute`` string as used in manifests and entry points.
    """
    import importlib

    module_name, _, attr_path = dotted.partition(":")
    obj: object = importlib.import_module(module_name)
    for part in attr_path.split(".") if attr_path else ():
        obj = getattr(obj, part)
    return obj


def folder_options(*roots: Any) -> dict[str, list[str]]:
    """List the Hydra config options under config folders, by group.

    ``model/cnn.yaml`` is option ``cnn`` of group ``model``; files in sub-folders keep
    their relative path (``experiment/vision/long.yaml`` is ``vision/long``), as Hydra
    names them on the command line. Files at the root are primary configs and are not
    listed; names starting with ``_`` or ``.`` are skipped.

    Args:
        roots: Folders: paths, or ``importlib.resources`` traversables.
    """
    options: dict[str, list[str]] = {}

    def entries(folder: Any) -> list[tuple[str, bool, Any]]:
        if isinstance(folder, str):
            # os.scandir knows file types from the directory listing: no stat per file.
            with os.scandir(folder) as listing:
                return [(e.name, e.is_dir(), e.path) for e in listing]
        return [(e.name, e.is_dir(), e) for e in folder.iterdir()]

    def walk(folder: Any, group: str, prefix: str) -> None:
        for name, is_dir, child in entries(folder):
            if name.startswith(("_", ".")):
                continue
            if is_dir:
                walk(child, group, f"{prefix}{name}/")
            elif name.endswith((".yaml", ".yml")):
                options.setdefault(group, []).append(prefix + name.rsplit(".", 1)[0])

    for root in roots:
        root = os.fspath(root) if isinstance(root, os.PathLike) else root
        if isinstance(root, str) and not os.path.isdir(root):
            continue
        for name, is_dir, child in entries(root):
            if is_dir and not name.startswith(("_", ".")):
                walk(child, name, "")
    return {group: sorted(set(names)) for group, names in sorted(options.items())}


def config_options(package: str) -> dict[str, list[str]]:
    """List the Hydra config options of a config package, by group (see ``folder_options``).

    The package's folders are read without importing the package itself: discovery
    lists every installed pack at every start.

    Args:
        package: Dotted name of the config package.
    """
    import importlib.util
    from importlib.resources import files

    spec = importlib.util.find_spec(package)
    if spec is None:
        raise ModuleNotFoundError(f"No config package named {package!r}")
    folders = list(spec.submodule_search_locations or ())
    if folders and all(os.path.isdir(folder) for folder in folders):
        return folder_options(*folders)
    return folder_options(files(package))  # zipped or otherwise unusual installs


__all__ = [
    "API_VERSION",
    "ENTRY_POINT_GROUP",
    "HOOKS_API",
    "SUPPORTED_API_VERSIONS",
    "Plugin",
    "config_options",
    "folder_options",
    "load_object",
]
