"""Text and JSON views of the installed packs (``pegboard plugins``) and of the options."""

from __future__ import annotations

import json
from typing import Any

from pegboard_launcher.commands import pack_commands
from pegboard_launcher.discovery import Discovery, Pack
from pegboard_launcher.hook_source import read_hook_source
from pegboard_launcher.index import OptionIndex


def _hooks(pack: Pack) -> dict[str, Any] | None:
    """The pack's hook module, the hooks it implements and its commands, from its source."""
    if not pack.manifest.hooks:
        return None
    source = read_hook_source(pack.manifest.hooks, pack.dist)
    return {
        "module": pack.manifest.hooks,
        "found": source.found,
        "implements": list(source.hooks),
        "commands": None if source.commands is None else sorted(source.commands),
    }


def plugins_data(discovery: Discovery, index: OptionIndex) -> dict[str, Any]:
    """Everything ``pegboard plugins`` shows, as plain data.

    Args:
        discovery: The discovered packs.
        index: The option index (for shadowing and collisions).
    """
    return {
        "packs": [
            {
                "name": pack.name,
                "version": pack.version,
                "entry_point": pack.entry_point,
                "api": pack.manifest.api,
                "configs": pack.manifest.configs,
                "options": pack.options,
                "models": dict(pack.manifest.models),
                "datamodules": dict(pack.manifest.datamodules),
                "hooks": _hooks(pack),
            }
            for pack in discovery.packs
        ],
        "problems": [
            {
                "name": p.name,
                "version": p.version,
                "entry_point": p.entry_point,
                "kind": p.kind,
                "reason": p.reason,
            }
            for p in (*discovery.broken, *discovery.skipped, *discovery.slow)
        ],
        "shadowed": [
            {"group": group, "option": option, "shadows": sources}
            for group, option, sources in index.shadowed()
        ],
        "collisions": [*index.collisions(), *pack_commands(discovery).refused],
    }


def plugins_text(data: dict[str, Any]) -> str:
    """Render ``plugins_data`` for people.

    Args:
        data: The output of ``plugins_data``.
    """
    lines: list[str] = []
    if not data["packs"]:
        lines.append("No pegboard packs are installed. Install one, for example:")
        lines.append("  pip install pegboard-models-vision pegboard-data-vision")
    for pack in data["packs"]:
        lines.append(
            f"{pack['name']} {pack['version']}  (plugin API {pack['api']}, "
            f"entry point {pack['entry_point']})"
        )
        lines.append(f"  configs: {pack['configs'] or '-'}")
        for group, options in pack["options"].items():
            lines.append(f"    {group}: {', '.join(options)}")
        hooks = pack["hooks"]
        if hooks:
            implemented = ", ".join(hooks["implements"]) or "none found in its source"
            where = "" if hooks["found"] else " (its source was not found)"
            lines.append(f"  hooks: {hooks['module']}{where}: {implemented}")
            if hooks["commands"]:
                lines.append(f"    commands: {', '.join(hooks['commands'])}")
        for kind in ("models", "datamodules"):
            if pack[kind]:
                lines.append(f"  {kind}:")
                width = max(len(name) for name in pack[kind])
                lines.extend(
                    f"    {name:<{width}}  {target}" for name, target in pack[kind].items()
                )
        lines.append("")
    for problem in data["problems"]:
        lines.append(
            f"{problem['kind'].upper()}: {problem['name']} {problem['version']}: "
            f"{problem['reason']}"
        )
    for shadow in data["shadowed"]:
        lines.append(
            f"SHADOWED: {shadow['group']}/{shadow['option']} from project configs/ "
            f"replaces the one from {', '.join(shadow['shadows'])}"
        )
    for collision in data["collisions"]:
        lines.append(f"CONFLICT: {collision}")
    return "\n".join(lines).rstrip() + "\n"


def plugins_json(data: dict[str, Any]) -> str:
    """Render ``plugins_data`` for scripts.

    Args:
        data: The output of ``plugins_data``.
    """
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
