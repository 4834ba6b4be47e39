"""Find the installed packs through the ``pegboard.plugins`` entry points, once per process."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from pegboard.plugin import (
    ENTRY_POINT_GROUP,
    SUPPORTED_API_VERSIONS,
    Plugin,
    config_options,
    load_object,
)

#: Comma-separated pack names (entry-point or distribution names) that are never loaded.
DISABLE_ENV = "PEGBOARD_DISABLE_PLUGINS"


@dataclass(frozen=True)
class Pack:
    """An installed pack whose manifest loaded.

    Args:
        name: Distribution name (``pegboard-models-vision``).
        version: Distribution version.
        entry_point: Entry-point name in the ``pegboard.plugins`` group.
        manifest: The pack's ``Plugin`` manifest.
        options: Config options the pack ships, by group.
    """

    name: str
    version: str
    entry_point: str
    manifest: Plugin
    options: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A pack that is installed but not in use, and why.

    Args:
        name: Distribution name.
        version: Distribution version.
        entry_point: Entry-point name.
        reason: What is wrong, in words.
        kind: ``"broken"`` (manifest fails), ``"incompatible"`` (another plugin API) or
            ``"disabled"`` (by the user).
    """

    name: str
    version: str
    entry_point: str
    reason: str
    kind: str = "broken"


@dataclass(frozen=True)
class Discovery:
    """Every pack found: the loaded ones, the broken ones and the skipped ones.

    Args:
        packs: Loaded packs, sorted by distribution name.
        broken: Packs whose manifest failed to load or is invalid.
        skipped: Packs disabled by the user or built for another plugin API.
    """

    packs: tuple[Pack, ...]
    broken: tuple[Problem, ...]
    skipped: tuple[Problem, ...]

    def versions(self) -> dict[str, str]:
        """Distribution name to version of every loaded pack."""
        return {pack.name: pack.version for pack in self.packs}


def _disabled_names() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _dist_identity(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return ep.name, "unknown"
    # Name and Version head the metadata file: reading those two header lines is several
    # times faster than `dist.metadata`, which parses the whole file as an email message.
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            break
        key, _, value = line.partition(":")
        if key in ("Name", "Version"):
            fields[key] = value.strip()
            if len(fields) == 2:
                break
    return fields.get("Name", ep.name), fields.get("Version", "unknown")


def _load(ep: EntryPoint, name: str, version: str) -> Pack | Problem:
    try:
        manifest = load_object(ep.value)
    except Exception as error:
        return Problem(
            name,
            version,
            ep.name,
            f"its manifest {ep.value} failed to load: {type(error).__name__}: {error}",
        )
    if not isinstance(manifest, Plugin):
        return Problem(
            name,
            version,
            ep.name,
            f"{ep.value} is a {type(manifest).__name__}, not a pegboard.plugin.Plugin",
        )
    if manifest.api not in SUPPORTED_API_VERSIONS:
        return Problem(
            name,
            version,
            ep.name,
            f"built for plugin API {manifest.api}, but this pegboard-core supports "
            f"API {', '.join(map(str, sorted(SUPPORTED_API_VERSIONS)))}",
            kind="incompatible",
        )
    try:
        options = config_options(manifest.configs) if manifest.configs else {}
    except Exception as error:
        return Problem(
            name, version, ep.name, f"its config package {manifest.configs} cannot be read: {error}"
        )
    return Pack(name, version, ep.name, manifest, options)


@functools.cache
def discover() -> Discovery:
    """Scan the entry points (once per process) and load every enabled pack's manifest."""
    disabled = _disabled_names()
    packs: list[Pack] = []
    broken: list[Problem] = []
    skipped: list[Problem] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        name, version = _dist_identity(ep)
        if ep.name in disabled or name in disabled:
            skipped.append(
                Problem(name, version, ep.name, f"disabled by {DISABLE_ENV}", "disabled")
            )
            continue
        result = _load(ep, name, version)
        if isinstance(result, Pack):
            packs.append(result)
        elif result.kind == "incompatible":
            skipped.append(result)
        else:
            broken.append(result)
    return Discovery(
        packs=tuple(sorted(packs, key=lambda p: (p.name, p.entry_point))),
        broken=tuple(sorted(broken, key=lambda p: p.name)),
        skipped=tuple(sorted(skipped, key=lambda p: p.name)),
    )
