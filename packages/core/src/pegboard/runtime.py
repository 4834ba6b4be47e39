"""Process-wide facts that the launcher hands to the runner without core importing it."""

from __future__ import annotations

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
