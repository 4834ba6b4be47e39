"""Which installed packs the user wants: disabled, allow-listed, and strict mode.

The command-line flags (``pegboard --disable-plugins a,b train``) write these same
environment variables in-process, so that the processes Lightning re-launches for DDP,
which inherit the environment, choose the same packs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pegboard.errors import PluginError

#: Comma-separated pack names (entry-point or distribution names) that are never loaded.
DISABLE_ENV = "PEGBOARD_DISABLE_PLUGINS"
#: Comma-separated pack names: when set, only these packs are loaded.
ONLY_ENV = "PEGBOARD_ONLY_PLUGINS"
#: Set to 1 to make a broken or incompatible pack an error instead of a warning.
STRICT_ENV = "PEGBOARD_STRICT_PLUGINS"


def names_in(variable: str) -> set[str]:
    """The comma-separated names in an environment variable (empty when unset).

    Args:
        variable: The variable's name.
    """
    raw = os.environ.get(variable, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def add_names(variable: str, names: str) -> None:
    """Add comma-separated ``names`` to those already in ``variable``.

    Args:
        variable: ``DISABLE_ENV`` or ``ONLY_ENV``.
        names: As typed after the flag (``a,b``).
    """
    merged = names_in(variable) | {name.strip() for name in names.split(",") if name.strip()}
    os.environ[variable] = ",".join(sorted(merged))


def strict() -> bool:
    """Whether broken and incompatible packs are errors (``PEGBOARD_STRICT_PLUGINS=1``)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def excluded(entry_point: str, distribution: str) -> str | None:
    """Why the user excluded a pack, or ``None`` when it is wanted.

    Args:
        entry_point: The pack's entry-point name.
        distribution: The pack's distribution name.
    """
    names = {entry_point, distribution}
    if names & names_in(DISABLE_ENV):
        return f"disabled by {DISABLE_ENV} (or --disable-plugins)"
    only = names_in(ONLY_ENV)
    if only and not names & only:
        return f"not in {ONLY_ENV} (or --only-plugins): {', '.join(sorted(only))}"
    return None


#: The flags ``pegboard`` takes before its command, and the variable each one sets.
FLAGS = {"--disable-plugins": DISABLE_ENV, "--only-plugins": ONLY_ENV}


def apply_flags(args: Sequence[str]) -> list[str]:
    """Apply the plugin flags that come before the command; return the rest.

    ``--disable-plugins a,b`` and ``--only-plugins a,b`` (or ``--flag=a,b``) add to
    their environment variables, ``--strict-plugins`` sets ``PEGBOARD_STRICT_PLUGINS``.
    Setting the environment rather than a module variable is what makes the choice
    reach the processes Lightning starts for DDP.

    Args:
        args: The command line after the program name.
    """
    rest = list(args)
    while rest and rest[0].startswith("--"):
        flag, has_value, value = rest[0].partition("=")
        if flag == "--strict-plugins" and not has_value:
            os.environ[STRICT_ENV] = "1"
            rest.pop(0)
            continue
        if flag not in FLAGS:
            break
        rest.pop(0)
        if not has_value:
            if not rest or rest[0].startswith("-"):
                raise PluginError(f"{flag} needs pack names: {flag} NAME[,NAME...]")
            value = rest.pop(0)
        add_names(FLAGS[flag], value)
    return rest
