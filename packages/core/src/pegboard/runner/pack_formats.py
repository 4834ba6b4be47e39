"""File formats that packs add to ``pegboard export`` and ``pegboard predict`` (API 2 hooks).

``pegboard_export_formats`` and ``pegboard_predict_formats`` return ``{name: function}``;
the names join pegboard's own as choices of ``format=`` and ``output_format=``. A name
pegboard or another pack already offers is refused, naming both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError, PegboardError
from pegboard.hooks import one_line, pack_hooks

#: Name to ``(pack, function)``.
Offered = dict[str, tuple[str, Callable[..., Any]]]


def offered_formats(hook: str, builtin: Iterable[str]) -> Offered:
    """The formats the active packs offer through ``hook``.

    Args:
        hook: ``pegboard_export_formats`` or ``pegboard_predict_formats``.
        builtin: pegboard's own formats, which no pack may take.
    """
    return pack_hooks().offers(hook, {name: "pegboard" for name in builtin})


def check_format(key: str, value: str, builtin: Iterable[str], offered: Offered, hook: str) -> None:
    """Refuse a format that neither pegboard nor an active pack offers, listing the choices.

    Args:
        key: The config key (``format``, ``output_format``).
        value: The format asked for.
        builtin: pegboard's own formats.
        offered: The packs' formats (``offered_formats``).
        hook: The hook behind ``offered``: a pack whose hook failed is named.
    """
    names = list(builtin)
    if value in names or value in offered:
        return
    choices = [*names, *(f"{name} ({pack})" for name, (pack, _) in sorted(offered.items()))]
    raise ConfigError(
        f"{key}={value!r} is not a format pegboard or an installed pack offers; choose one "
        f"of: {', '.join(choices)}{pack_hooks().failures_of(hook)}"
    )


def write_with_pack(key: str, fmt: str, offered: Offered, *args: Any) -> Path:
    """Call a pack's format function with ``args`` (the suggested path last); check its file.

    Args:
        key: The config key, for messages.
        fmt: The format, a key of ``offered``.
        offered: The packs' formats.
        *args: The hook's arguments: ``(model, example, path)`` or ``(rows, path)``.

    Returns:
        The file the function wrote.

    Raises:
        ConfigError: The function raised, or returned no existing file.
    """
    pack, function = offered[fmt]
    try:
        written = function(*args)
    except (PegboardError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:
        raise ConfigError(f"{key}={fmt} (pack {pack}) failed: {one_line(error)}") from error
    if written is None or not Path(written).is_file():
        raise ConfigError(
            f"{key}={fmt} (pack {pack}) returned {written!r}, not the path of the file it wrote"
        )
    return Path(written)


__all__ = ["Offered", "check_format", "offered_formats", "write_with_pack"]
