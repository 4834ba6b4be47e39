"""Every command ``pegboard`` offers, built in or added by a pack, in one place.

Help, completion, the unknown-command message and dispatch all read the command list
from here. A pack adds commands through its ``pegboard_commands`` hook: they are listed
from the hook module's source (``hook_source``), and the module is imported only when
one of them runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pegboard.errors import PegboardError, PluginError
from pegboard.runner.app import COMMANDS
from pegboard_launcher.discovery import Discovery
from pegboard_launcher.hook_source import read_hook_source

PLUGINS_SUMMARY = (
    "List the installed packs (--json for scripts); 'plugins check [NAME...]' runs the kit."
)
NEW_PACK_SUMMARY = (
    "Write a ready pack to publish: pegboard new-pack NAME --kind models|data|both|hooks."
)
#: The launcher's own commands, beside the runner's (``pegboard.runner.COMMANDS``).
LAUNCHER_COMMANDS = {"plugins": PLUGINS_SUMMARY, "new-pack": NEW_PACK_SUMMARY}


def builtin_commands() -> dict[str, str]:
    """Name to one-line summary of every command pegboard itself offers."""
    return {**{name: command.summary for name, command in COMMANDS.items()}, **LAUNCHER_COMMANDS}


@dataclass(frozen=True)
class PackCommand:
    """A command a pack adds.

    Args:
        name: What the user types after ``pegboard``.
        pack: The pack's distribution name.
        summary: The first line of the command function's docstring.
    """

    name: str
    pack: str
    summary: str = ""


@dataclass(frozen=True)
class CommandListing:
    """The commands packs add, as their hook modules' sources tell.

    Args:
        usable: The commands ``pegboard NAME`` runs, by name.
        refused: One line per command that clashes with a built-in or another pack's.
        unlisted: One line per pack whose commands are built at run time.
    """

    usable: tuple[PackCommand, ...] = ()
    refused: tuple[str, ...] = ()
    unlisted: tuple[str, ...] = ()


def pack_commands(discovery: Discovery) -> CommandListing:
    """The commands packs add, read from their hook modules' sources (nothing imported).

    Args:
        discovery: The discovered packs.
    """
    builtin = builtin_commands()
    owners: dict[str, list[PackCommand]] = {}
    unlisted: list[str] = []
    for pack in discovery.packs:
        if not pack.manifest.hooks:
            continue
        source = read_hook_source(pack.manifest.hooks, pack.dist)
        if source.commands is None:
            unlisted.append(f"{pack.name} builds its commands at run time: they are not listed")
            continue
        for name, summary in source.commands.items():
            owners.setdefault(name, []).append(PackCommand(name, pack.name, summary))
    usable, refused = [], []
    for name, offered in sorted(owners.items()):
        packs = [command.pack for command in offered]
        if name in builtin:
            refused.append(f"command {name!r} of {packs[0]} is refused: pegboard has its own")
        elif len(offered) > 1:
            refused.append(f"command {name!r} is refused: both {' and '.join(packs)} offer it")
        else:
            usable.append(offered[0])
    return CommandListing(tuple(usable), tuple(refused), tuple(unlisted))


def _offered_now() -> dict[str, list[tuple[str, object]]]:
    """Command name to the ``(pack, function)`` pairs offering it, from the hooks."""
    from pegboard.hooks import pack_hooks

    hooks = pack_hooks()
    owners: dict[str, list[tuple[str, object]]] = {}
    for pack, mapping in hooks.call("pegboard_commands"):
        if not isinstance(mapping, Mapping):
            hooks.fail(pack, "pegboard_commands", f"returned a {type(mapping).__name__}")
            continue
        for name, function in mapping.items():
            owners.setdefault(str(name), []).append((pack, function))
    return owners


def unknown_command(command: str, extra: Sequence[str] = ()) -> str:
    """The message for a command nobody offers, with the valid ones.

    Args:
        command: What the user typed.
        extra: Commands packs offer.
    """
    valid = [*builtin_commands(), *extra]
    close = difflib.get_close_matches(command, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"unknown command {command!r}; choose one of: {', '.join(valid)} "
        f"(overrides come after the command: pegboard train model=mlp).{hint}"
    )


def run_pack_command(command: str, argv: Sequence[str]) -> int:
    """Run a pack's command: import the hook modules, find the one pack offering it, call it.

    Args:
        command: The command's name.
        argv: The arguments after it.

    Returns:
        The function's exit status (``None`` counts as 0).

    Raises:
        PluginError: No pack, or more than one, offers the command; or its function
            raised (named with the pack).
    """
    owners = _offered_now()
    offered = owners.get(command, [])
    if not offered:
        extra = sorted(name for name, packs in owners.items() if len(packs) == 1)
        raise PluginError(unknown_command(command, extra))
    if len(offered) > 1:
        packs = [pack for pack, _ in offered]
        raise PluginError(
            f"command {command!r} is offered by both {' and '.join(packs)}: uninstall one, "
            f"or disable it with --disable-plugins {packs[-1]}"
        )
    pack, function = offered[0]
    if not callable(function):
        raise PluginError(f"command {command!r} of pack {pack} is not a function")
    try:
        status = function(list(argv))
    except (KeyboardInterrupt, SystemExit, PegboardError):
        raise  # a pegboard error is already one line for the user
    except Exception as error:
        from pegboard.hooks import one_line

        raise PluginError(
            f"command {command!r} of pack {pack} failed: {one_line(error)}"
        ) from error
    if status is not None and not isinstance(status, int):
        raise PluginError(
            f"command {command!r} of pack {pack} returned {status!r}, not an exit status"
        )
    return status or 0


__all__ = [
    "LAUNCHER_COMMANDS",
    "CommandListing",
    "PackCommand",
    "builtin_commands",
    "pack_commands",
    "run_pack_command",
    "unknown_command",
]
