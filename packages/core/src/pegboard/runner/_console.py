"""What a command prints: once, from the launching process (runner-internal)."""

from __future__ import annotations

from pegboard.runner.rundir import is_launching_process


def echo(*lines: str) -> None:
    """Print on the launching process only: DDP workers would repeat every line.

    Args:
        *lines: Lines to print.
    """
    if is_launching_process():
        for line in lines:
            print(line)
