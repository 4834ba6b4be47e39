"""Process-wide facts that the launcher hands to the runner without core importing it.

They are mirrored into environment variables, so the processes a job starts for itself
(joblib launcher workers, DDP ranks) see the same facts as the process that set them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from types import MappingProxyType

PACKS_ENV = "PEGBOARD_ACTIVE_PACKS"
MODULES_ENV = "PEGBOARD_PLUGIN_MODULES"


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


def set_plugin_modules(modules: Iterable[str] | None) -> None:
    """Record the top-level modules of the active packs, which configs may name as targets.

    The launcher calls this after discovery; ``pegboard.targets`` allows ``_target_``
    paths under these modules (besides pegboard, torch, Lightning and the project).

    Args:
        modules: Top-level module names (``acme_pegboard``); ``None`` forgets them, so
            that ``pegboard.targets`` falls back to the installed entry points.
    """
    if modules is None:
        os.environ.pop(MODULES_ENV, None)
    else:
        os.environ[MODULES_ENV] = ",".join(sorted(modules))


def plugin_modules() -> frozenset[str] | None:
    """The modules recorded by ``set_plugin_modules``, or ``None`` when none were."""
    raw = os.environ.get(MODULES_ENV)
    if raw is None:
        return None
    return frozenset(name for name in raw.split(",") if name)
