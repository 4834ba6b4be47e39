"""Find the installed packs through the ``pegboard.plugins`` entry points, once per process."""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import Distribution, EntryPoint, entry_points

from pegboard.plugin import (
    ENTRY_POINT_GROUP,
    SUPPORTED_API_VERSIONS,
    Plugin,
    config_options,
    folder_options,
    load_object,
)
from pegboard_launcher.selection import DISABLE_ENV, ONLY_ENV, excluded
from pegboard_launcher.static_api import StaticManifest, config_folder, read_static


@dataclass(frozen=True)
class Pack:
    """An installed pack whose manifest loaded.

    Args:
        name: Distribution name (``pegboard-models-vision``).
        version: Distribution version.
        entry_point: Entry-point name in the ``pegboard.plugins`` group.
        manifest: The pack's ``Plugin`` manifest.
        options: Config options the pack ships, by group.
        value: The entry point's value, ``"module:attr"`` of the manifest.
        dist: The installed distribution, to find the pack's files without importing.
    """

    name: str
    version: str
    entry_point: str
    manifest: Plugin
    options: dict[str, list[str]] = field(default_factory=dict)
    value: str = ""
    dist: Distribution | None = field(default=None, compare=False, repr=False)


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
        slow: Loaded packs whose manifest imports torch or Lightning (a warning each).
    """

    packs: tuple[Pack, ...]
    broken: tuple[Problem, ...]
    skipped: tuple[Problem, ...]
    slow: tuple[Problem, ...] = ()

    def versions(self) -> dict[str, str]:
        """Distribution name to version of every loaded pack."""
        return {pack.name: pack.version for pack in self.packs}

    def targets(self) -> frozenset[str]:
        """Classes advertised by every loaded pack (see ``pegboard.plugin.Plugin.targets``)."""
        return frozenset(target for pack in self.packs for target in pack.manifest.targets)

    def hook_modules(self) -> dict[str, str]:
        """Distribution name to hook module of every loaded pack that has one (API 2)."""
        return {pack.name: pack.manifest.hooks for pack in self.packs if pack.manifest.hooks}


def _incompatible(ep: EntryPoint, name: str, version: str, api: object) -> Problem:
    supported = ", ".join(map(str, sorted(SUPPORTED_API_VERSIONS)))
    return Problem(
        name,
        version,
        ep.name,
        f"built for plugin API {api}, but this pegboard-core supports API {supported}; "
        f"install a version of {name} built for API {supported}",
        kind="incompatible",
    )


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


def _options(configs: str | None, static: StaticManifest, module: str) -> dict[str, list[str]]:
    if not configs:
        return {}
    folder = config_folder(static.file, module, configs) if static.file else None
    # Read the folder found beside the manifest when possible: finding the package
    # through the import system would import (run) the pack's __init__.py.
    return folder_options(folder) if folder else config_options(configs)


#: Modules a manifest must not import (the contract): every command would pay for them.
_HEAVY = ("torch", "pytorch_lightning", "lightning")
#: Heavy imports seen while loading each manifest: entry-point value -> seconds.
_HEAVY_LOADS: dict[str, float] = {}


def _timed_load(value: str) -> object:
    already = [name for name in _HEAVY if name in sys.modules]
    started = time.perf_counter()
    manifest = load_object(value)
    if any(name in sys.modules for name in _HEAVY if name not in already):
        _HEAVY_LOADS[value] = time.perf_counter() - started
    return manifest


def _load(ep: EntryPoint, name: str, version: str) -> Pack | Problem:
    # Read the manifest's source first: a pack built for another API is skipped before
    # any of its code (its package's __init__ included) runs, and a manifest that is
    # plain data (the contract's form) is built without importing the pack at all.
    static = read_static(ep.value, ep.dist)
    if static.api is not None and static.api not in SUPPORTED_API_VERSIONS:
        return _incompatible(ep, name, version, static.api)
    manifest: object
    try:
        if static.arguments is not None:
            manifest = Plugin(**static.arguments)
        else:
            manifest = _timed_load(ep.value)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit too: a pack must never end the command
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
        return _incompatible(ep, name, version, manifest.api)
    try:
        options = _options(manifest.configs, static, ep.value.partition(":")[0].strip())
    except Exception as error:
        return Problem(
            name, version, ep.name, f"its config package {manifest.configs} cannot be read: {error}"
        )
    return Pack(name, version, ep.name, manifest, options, ep.value, ep.dist)


@functools.cache
def discover() -> Discovery:
    """Scan the entry points (once per process) and load every wanted pack's manifest.

    Disabled packs (``PEGBOARD_DISABLE_PLUGINS``) and packs left out of an allow-list
    (``PEGBOARD_ONLY_PLUGINS``) are skipped before any of their modules is imported.
    """
    packs: list[Pack] = []
    broken: list[Problem] = []
    skipped: list[Problem] = []
    slow: list[Problem] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        name, version = _dist_identity(ep)
        reason = excluded(ep.name, name)
        if reason is not None:
            skipped.append(Problem(name, version, ep.name, reason, "disabled"))
            continue
        result = _load(ep, name, version)
        if ep.value in _HEAVY_LOADS:
            seconds = _HEAVY_LOADS.pop(ep.value)
            reason = (
                f"its manifest {ep.value} imports torch or Lightning, which costs every "
                f"pegboard command {seconds:.1f} s; import them lazily (see docs/packs.md)"
            )
            slow.append(Problem(name, version, ep.name, reason, "slow"))
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
        slow=tuple(slow),
    )


__all__ = ["DISABLE_ENV", "ONLY_ENV", "Discovery", "Pack", "Problem", "discover"]
