"""The plugin manifest that every pegboard pack exports (the public plugin contract).

This module imports neither torch nor Lightning: the launcher reads manifests of every
installed pack on each start, so it must stay cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pegboard.errors import PluginError

#: The plugin API version that this pegboard-core writes manifests for.
API_VERSION = 1
#: Every plugin API version that this pegboard-core can load.
SUPPORTED_API_VERSIONS: frozenset[int] = frozenset({1})
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
    """

    api: int
    configs: str | None = None
    models: Mapping[str, str] = field(default_factory=dict)
    datamodules: Mapping[str, str] = field(default_factory=dict)

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


def config_options(package: str) -> dict[str, list[str]]:
    """List the Hydra config options in a config package, by group.

    ``model/cnn.yaml`` is option ``cnn`` of group ``model``; files in sub-folders keep
    their relative path (``experiment/vision/long.yaml`` is ``vision/long``), as Hydra
    names them on the command line. Files at the package root are primary configs and
    are not listed.

    Args:
        package: Dotted name of the config package.
    """
    from importlib.resources import files

    options: dict[str, list[str]] = {}

    def walk(folder: Any, group: str, prefix: str) -> None:
        for entry in folder.iterdir():
            name = entry.name
            if entry.is_dir():
                if not name.startswith(("_", ".")):
                    walk(entry, group, f"{prefix}{name}/")
            elif name.endswith((".yaml", ".yml")):
                options.setdefault(group, []).append(prefix + name.rsplit(".", 1)[0])

    for entry in files(package).iterdir():
        if entry.is_dir() and not entry.name.startswith(("_", ".")):
            walk(entry, entry.name, "")
    return {group: sorted(names) for group, names in sorted(options.items())}
