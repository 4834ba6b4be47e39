"""Process-wide facts that the launcher hands to the runner without core importing it.

They are mirrored into environment variables, so the processes a job starts for itself
(joblib launcher workers, DDP ranks) see the same facts as the process that set them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from types import MappingProxyType

PACKS_ENV = "PEGBOARD_ACTIVE_PACKS"
CLASSES_ENV = "PEGBOARD_PLUGIN_CLASSES"
HOOKS_ENV = "PEGBOARD_HOOK_MODULES"


def set_pack_versions(versions: dict[str, str]) -> None:
    """Record the distributions and versions of the packs active in this process.

    Args:
        versions: Distribution name to version, as the launcher discovered them.
    """
    os.environ[PACKS_ENV] = json.dumps(versions, sort_keys=True)


def pack_versions() -> MappingProxyType[str, str]:
    """The packs recorded by ``set_pack_versions``, with core itself always included."""
    from pegboard import __version__

    recorded = json.loads(os.environ.get(PACKS_ENV) or "{}")
    return MappingProxyType({"pegboard-core": __version__, **recorded})


def set_plugin_classes(classes: Iterable[str] | None) -> None:
    """Record the classes the active packs advertise, which configs may name as targets.

    The launcher calls this after discovery; ``pegboard.targets`` allows exactly these
    ``_target_`` paths (besides torch's and Lightning's configurable classes, pegboard's
    own and the project's).

    Args:
        classes: Dotted class paths (``acme_pegboard.net.AcmeNet``); ``None`` forgets
            them, so that ``pegboard.targets`` reads the installed packs' manifests.
    """
    if classes is None:
        os.environ.pop(CLASSES_ENV, None)
    else:
        os.environ[CLASSES_ENV] = ",".join(sorted(classes))


def plugin_classes() -> frozenset[str] | None:
    """The classes recorded by ``set_plugin_classes``, or ``None`` when none were."""
    raw = os.environ.get(CLASSES_ENV)
    if raw is None:
        return None
    return frozenset(name for name in raw.split(",") if name)


def set_hook_modules(modules: Mapping[str, str]) -> None:
    """Record the hook module of each active pack that has one (plugin API 2).

    Args:
        modules: Distribution name to the dotted name of its hook module.
    """
    os.environ[HOOKS_ENV] = json.dumps(dict(modules), sort_keys=True)


def hook_modules() -> dict[str, str]:
    """The hook modules recorded by ``set_hook_modules`` (none without the launcher)."""
    recorded = json.loads(os.environ.get(HOOKS_ENV) or "{}")
    return {str(pack): str(module) for pack, module in recorded.items()}


__all__ = [
    "CLASSES_ENV",
    "HOOKS_ENV",
    "PACKS_ENV",
    "hook_modules",
    "pack_versions",
    "plugin_classes",
    "set_hook_modules",
    "set_pack_versions",
    "set_plugin_classes",
]
