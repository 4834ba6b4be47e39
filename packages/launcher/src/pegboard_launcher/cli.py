"""The ``pegboard`` command line."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from pegboard.errors import PegboardError, PluginError
from pegboard.runner.app import COMMANDS
from pegboard_launcher import completion
from pegboard_launcher.commands import run_pack_command, unknown_command
from pegboard_launcher.discovery import Discovery, discover
from pegboard_launcher.help import command_help, main_help
from pegboard_launcher.index import OptionIndex, build_index, check_collisions
from pegboard_launcher.listing import plugins_data, plugins_json, plugins_text
from pegboard_launcher.reporting import (
    EXIT_CONFIG,
    TRACEBACK_ENV,
    report_error,
    run_reporting_errors,
)
from pegboard_launcher.selection import STRICT_ENV, apply_flags, strict


def prepare() -> OptionIndex:
    """Discover packs, refuse conflicts, warn about broken packs, and prepare Hydra.

    Returns:
        The option index of this process.
    """
    from pegboard.runtime import set_hook_modules, set_pack_versions, set_plugin_classes

    # Hydra is imported only by commands that compose configs.
    from pegboard_launcher.searchpath import register

    discovery = discover()
    check_problems(discovery)
    index = build_index(discovery)
    check_collisions(index)
    set_pack_versions(discovery.versions())
    # Configs may build the classes the active packs advertise (pegboard.targets), no others.
    set_plugin_classes(discovery.targets())
    # Named, not imported: a hook module loads when a command first calls its hooks.
    set_hook_modules(discovery.hook_modules())
    # Console scripts do not put the working directory on sys.path; a project's
    # `_target_: my_net.MyNet` must still import. Appended, so it never shadows packages.
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    register()
    return index


def check_problems(discovery: Discovery) -> None:
    """Warn about broken and incompatible packs, or refuse them in strict mode.

    Args:
        discovery: The discovered packs.

    Raises:
        PluginError: In strict mode (``--strict-plugins``), when any pack is broken or
            built for another plugin API.
    """
    problems = [*discovery.broken, *(p for p in discovery.skipped if p.kind == "incompatible")]
    lines = [f"pack {p.name} {p.version} is not loaded: {p.reason}" for p in problems]
    if lines and strict():
        raise PluginError(
            f"{'; '.join(lines)}. Fix or uninstall it, disable it with --disable-plugins "
            f"{problems[0].name}, or leave out --strict-plugins ({STRICT_ENV})"
        )
    for line in lines:
        print(f"pegboard: warning: {line}", file=sys.stderr)
    warn_slow(discovery)


def warn_slow(discovery: Discovery) -> None:
    """Name each pack whose manifest imports torch or Lightning, with what it costs.

    Args:
        discovery: The discovered packs.
    """
    for pack in discovery.slow:
        print(f"pegboard: warning: pack {pack.name} {pack.version}: {pack.reason}", file=sys.stderr)


def _run(command: str, argv: list[str]) -> int:
    from pegboard.runner.app import run_command

    if "--help" in argv or "-h" in argv:
        warn_slow(discover())
        print(command_help(command, build_index(discover())), end="")
        return 0
    from pegboard.runner.precheck import composing_once
    from pegboard_launcher.overrides import check_overrides

    index = prepare()

    def checked_run() -> None:
        # Unknown options and keys are refused before Hydra runs, in pegboard's words.
        check_overrides(command, argv, index)
        run_command(command, argv)

    # The check of the keys and core's check of the whole config read one composition.
    with composing_once():
        return run_reporting_errors(checked_run, command, argv, index)


def _plugins(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        from pegboard_launcher.plugin_check import run_check

        return run_check(argv[1:])
    unknown = [arg for arg in argv if arg != "--json"]
    if unknown:
        return report_error(
            f"pegboard plugins: unknown argument {unknown[0]!r}; use --json or nothing"
        )
    discovery = discover()
    data = plugins_data(discovery, build_index(discovery))
    print(plugins_json(data) if "--json" in argv else plugins_text(data), end="")
    # The listing is shown either way; strict mode only changes the exit status.
    unusable = [p["name"] for p in data["problems"] if p["kind"] not in ("disabled", "slow")]
    if strict() and (unusable or data["collisions"]):
        named = ", ".join(unusable) or "conflicting packs"
        return report_error(f"{named}: broken, incompatible or in conflict ({STRICT_ENV}=1)")
    return 0


def _version() -> int:
    from importlib.metadata import version

    print(f"pegboard-core {version('pegboard-core')}")
    print(f"pegboard-launcher {version('pegboard-launcher')}")
    for pack in discover().packs:
        print(f"{pack.name} {pack.version}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pegboard`` command.

    Args:
        argv: Arguments after the program name; ``sys.argv[1:]`` by default.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args = apply_flags(args)
        if not args or args[0] in ("-h", "--help"):
            discovery = discover()
            warn_slow(discovery)
            print(main_help(discovery), end="")
            return 0
        command, rest = args[0], args[1:]
        if command == "--version":
            return _version()
        if command in ("-sc", "--shell-completion"):
            prepare()
            return completion.run(rest)
        if command == "plugins":
            return _plugins(rest)
        if command == "new-pack":
            from pegboard_launcher.scaffold import new_pack_command

            return new_pack_command(rest)
        if command in COMMANDS:
            return _run(command, rest)
        if command.startswith("-") or not discover().hook_modules():
            return report_error(unknown_command(command))
        # Not pegboard's: a pack's command, if a pack offers it (its hooks load now).
        prepare()
        return run_pack_command(command, rest)
    except PegboardError as error:
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise  # the traceback, as asked
        return report_error(error)


def console_main() -> NoReturn:
    """The ``pegboard`` console script: ``main``, then a quick exit."""
    try:
        status = main()
    finally:
        # The command has closed what it wrote. Freezing the heap spares the
        # interpreter's last garbage collection a walk over the millions of objects
        # that torch, Lightning and their imports made: about a second on every exit.
        gc.freeze()
    sys.exit(status)


__all__ = ["EXIT_CONFIG", "check_problems", "console_main", "main", "prepare"]
