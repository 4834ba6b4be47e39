"""Process-wide facts that the launcher hands to the runner without core importing it."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

_pack_versions: dict[str, str] = {}


def set_pack_versions(versions: dict[str, str]) -> None:
    """Record the distributions and versions of the packs active in this process.

    Args:
        versions: Distribution name to version, as the launcher discovered them.
    """
    _pack_versions.clear()
    _pack_versions.update(versions)


def pack_versions() -> MappingProxyType[str, str]:
    """The packs recorded by ``set_pack_versions``, with core itself always included."""
    from pegboard import __version__

    return MappingProxyType({"pegboard-core": __version__, **_pack_versions})


_plugin_modules: frozenset[str] | None = None


def set_plugin_modules(modules: Iterable[str] | None) -> None:
    """Record the top-level modules of the active packs, which configs may name as targets.

    The launcher calls this after discovery; ``pegboard.targets`` allows ``_target_``
    paths under these modules (besides pegboard, torch, Lightning and the project).

    Args:
        modules: Top-level module names (``acme_pegboard``); ``None`` forgets them, so
            that ``pegboard.targets`` falls back to the installed entry points.
    """
    global _plugin_modules
    _plugin_modules = None if modules is None else frozenset(modules)


def plugin_modules() -> frozenset[str] | None:
    """The modules recorded by ``set_plugin_modules``, or ``None`` when none were."""
    return _plugin_modules
