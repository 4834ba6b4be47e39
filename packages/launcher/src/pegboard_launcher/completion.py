"""Shell completion for ``pegboard COMMAND OVERRIDES``, through Hydra's completion plugins.

Hydra's completion script calls the program by its first word only (``pegboard -sc
query=bash``), with the whole line in ``COMP_LINE``. pegboard answers with the command
names while the command is being typed, and otherwise hands Hydra the line without the
command word, under that command's primary config.
"""

from __future__ import annotations

import os

from pegboard.runner.app import COMMANDS, run_command
from pegboard_launcher.commands import builtin_commands, pack_commands
from pegboard_launcher.discovery import discover


def run(argv: list[str]) -> int:
    """Handle ``pegboard --shell-completion install=bash|query=bash|...``.

    Args:
        argv: The arguments after ``--shell-completion``.
    """
    query = any(arg.startswith("query=") for arg in argv)
    line = os.environ.get("COMP_LINE", "")
    words = line.split()
    typing_command = len(words) < 2 or (len(words) == 2 and not line.endswith(" "))
    if query and typing_command:
        prefix = words[1] if len(words) == 2 else ""
        added = pack_commands(discover()).usable
        names = [*builtin_commands(), *(command.name for command in added)]
        print(" ".join(name for name in names if name.startswith(prefix)))
        return 0
    command = words[1] if query and words[1] in COMMANDS else next(iter(COMMANDS))
    if query:
        # Hydra strips the program name; drop the command word so it sees only overrides.
        os.environ["COMP_LINE"] = " ".join([words[0], *words[2:]]) + (
            " " if line.endswith(" ") else ""
        )
    run_command(command, ["--shell-completion", *argv])
    return 0
