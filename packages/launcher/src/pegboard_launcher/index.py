"""Which config options exist, where each comes from, and which of them collide."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pegboard.errors import PluginError
from pegboard.plugin import config_options, folder_options
from pegboard_launcher.discovery import Discovery

CORE = "pegboard-core"
PROJECT = "project configs/"
#: Where first-party groups come from, to tell users what to install when one is missing.
FIRST_PARTY_PROVIDERS = {"model": "pegboard-models-vision", "data": "pegboard-data-vision"}
#: Groups that belong to Hydra itself and are left out of listings.
HIDDEN_GROUPS = {"hydra"}


def project_config_dir() -> Path:
    """The ``configs/`` folder of the working directory (it may not exist)."""
    return Path(os.getcwd()) / "configs"


@dataclass
class OptionIndex:
    """Every option of every config group with the sources that provide it, in search order.

    Args:
        providers: ``providers[group][option]`` lists the sources (``pegboard-core``,
            a pack's distribution name, or ``project configs/``) that ship the file.
    """

    providers: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add(self, source: str, options: dict[str, list[str]]) -> None:
        """Record the options one source ships.

        Args:
            source: Who provides them.
            options: Option names by group.
        """
        for group, names in options.items():
            for name in names:
                self.providers.setdefault(group, {}).setdefault(name, []).append(source)

    def groups(self) -> list[str]:
        """Visible groups, sorted."""
        return sorted(group for group in self.providers if group not in HIDDEN_GROUPS)

    def options(self, group: str) -> dict[str, list[str]]:
        """Options of ``group`` mapped to their providers (empty for an unknown group).

        Args:
            group: A config group.
        """
        return dict(sorted(self.providers.get(group, {}).items()))

    def shadowed(self) -> list[tuple[str, str, list[str]]]:
        """``(group, option, shadowed sources)`` where project configs replace a shipped file."""
        return [
            (group, option, sources[1:])
            for group in sorted(self.providers)
            for option, sources in sorted(self.providers[group].items())
            if sources[0] == PROJECT and len(sources) > 1
        ]

    def collisions(self) -> list[str]:
        """One message per option that two shipped sources (packs or core) both provide."""
        messages = []
        for group in sorted(self.providers):
            for option, sources in sorted(self.providers[group].items()):
                shipped = sorted(source for source in sources if source != PROJECT)
                if len(shipped) > 1:
                    messages.append(
                        f"{group}/{option}.yaml is shipped by both {' and '.join(shipped)}: "
                        f"uninstall one, or disable it with PEGBOARD_DISABLE_PLUGINS"
                    )
        return messages


def build_index(discovery: Discovery, include_project: bool = True) -> OptionIndex:
    """Index the options of the project folder, core and every loaded pack, in search order.

    Args:
        discovery: The discovered packs.
        include_project: Whether the working directory's ``configs/`` is searched.
    """
    index = OptionIndex()
    if include_project:
        index.add(PROJECT, folder_options(project_config_dir()))
    index.add(CORE, config_options("pegboard.conf"))
    for pack in discovery.packs:
        index.add(pack.name, pack.options)
    return index


def check_collisions(index: OptionIndex) -> None:
    """Raise ``PluginError`` naming every option shipped twice.

    Args:
        index: The option index.
    """
    messages = index.collisions()
    if messages:
        raise PluginError("Conflicting packs:\n  " + "\n  ".join(messages))
