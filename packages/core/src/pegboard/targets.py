"""Which ``_target_`` a config may name: an allow-list checked before anything is imported.

A config is data, but Hydra turns any ``_target_`` into an import and a call. A config
file shipped by a pack, or an override typed from a shell history, could otherwise run
``os.system``. Every target is checked here, as a string, before ``get_object`` imports
it. A target is allowed when

* its top-level module is pegboard, torch or Lightning (``BASE_MODULES``), a module of an
  active pack (registered by the launcher with ``pegboard.runtime.set_plugin_modules``),
  a module or package of the project in the working directory, or a name listed in the
  ``PEGBOARD_ALLOW_TARGETS`` environment variable; and
* no part of its dotted path names a process, shell, file-removal or code-execution
  function or module (``os``, ``subprocess``, ``eval``, ``system``...): attribute paths
  can reach those through an allowed module (``torch.os.system``), and they are refused
  even under an allowed root.

Without the launcher (core used as a library, the conformance kit), no pack list is
registered: the top-level packages named by the ``pegboard.plugins`` entry points of the
installed distributions are allowed instead (read from metadata, nothing imported).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError

#: Environment variable: comma-separated extra top-level modules that targets may name.
ALLOW_ENV = "PEGBOARD_ALLOW_TARGETS"
#: Top-level modules every config may use.
BASE_MODULES = frozenset(
    {"pegboard", "torch", "pytorch_lightning", "lightning", "lightning_fabric", "torchmetrics"}
)
#: Modules that run processes or code, touch files or the interpreter: refused as any part
#: of a target, whatever the root (``posix``/``nt`` are what ``os`` re-exports).
DANGEROUS_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "subprocess",
        "pty",
        "shutil",
        "sys",
        "builtins",
        "__builtin__",
        "importlib",
        "runpy",
        "code",
        "codeop",
        "ctypes",
        "pickle",
        "marshal",
        "shelve",
        "socket",
        "multiprocessing",
        "webbrowser",
    }
)
#: Functions that execute code or commands, remove files or import by name: refused as
#: any part of a target (they are reachable as attributes of harmless-looking modules).
DANGEROUS_NAMES = frozenset(
    {
        "eval",
        "exec",
        "__import__",
        "import_module",
        "system",
        "popen",
        "Popen",
        "run",
        "call",
        "check_call",
        "check_output",
        "getoutput",
        "getstatusoutput",
        "spawn",
        "fork",
        "forkpty",
        "kill",
        "remove",
        "unlink",
        "rmdir",
        "rmtree",
        "removedirs",
        "open",
        "load",
        "loads",
        "breakpoint",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
    }
)
_DANGEROUS_PREFIXES = ("exec", "spawn", "posix_spawn")
#: Whole paths under allowed roots that download, unpickle or compile and run code.
DANGEROUS_PATHS = (
    "torch.hub",
    "torch.package",
    "torch.utils.cpp_extension",
    "torch.utils.model_zoo",
)


def _entry_point_roots() -> frozenset[str]:
    from importlib.metadata import entry_points

    from pegboard.plugin import ENTRY_POINT_GROUP

    return frozenset(
        ep.value.split(":")[0].split(".")[0] for ep in entry_points(group=ENTRY_POINT_GROUP)
    )


@functools.cache
def _installed_pack_roots() -> frozenset[str]:
    # Cached: metadata is scanned once per process, like the launcher's discovery.
    return _entry_point_roots()


def project_modules(folder: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Top-level modules and packages that sit in the project folder (the working directory).

    Args:
        folder: The project folder; the working directory by default.
    """
    root = Path(folder) if folder is not None else Path.cwd()
    names: set[str] = set()
    try:
        entries = list(root.iterdir())
    except OSError:
        return frozenset()
    for entry in entries:
        if entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and (entry / "__init__.py").is_file():
            names.add(entry.name)
    return frozenset(names)


def _env_allowed() -> frozenset[str]:
    raw = os.environ.get(ALLOW_ENV, "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def allowed_roots() -> frozenset[str]:
    """Every top-level module a ``_target_`` may start with in this process, right now."""
    from pegboard.runtime import plugin_modules

    packs = plugin_modules()
    if packs is None:
        packs = _installed_pack_roots()
    return BASE_MODULES | packs | project_modules() | _env_allowed()


def dangerous_part(target: str) -> str | None:
    """The part of ``target`` that names something dangerous, or ``None``.

    Args:
        target: A dotted path as written in ``_target_``.
    """
    dotted = target.replace(":", ".")
    for prefix in DANGEROUS_PATHS:
        if dotted == prefix or dotted.startswith(prefix + "."):
            return prefix
    for part in dotted.split("."):
        if (
            part in DANGEROUS_MODULES
            or part in DANGEROUS_NAMES
            or part.startswith(_DANGEROUS_PREFIXES)
            or (part.startswith("__") and part.endswith("__"))
        ):
            return part
    return None


def _findable(root: str) -> bool:
    import importlib.util

    # find_spec of a top-level name only asks the path finders: no module code runs.
    try:
        return root in sys.modules or importlib.util.find_spec(root) is not None
    except (ImportError, ValueError):
        return False


def check_target(target: Any, path: str, allowed: Iterable[str] | None = None) -> None:
    """Refuse a ``_target_`` outside the allow-list, before it is imported.

    Args:
        target: The value of ``_target_``.
        path: Where the node sits in the config, for the message (``"model"``).
        allowed: Allowed top-level modules; ``allowed_roots()`` by default.

    Raises:
        ConfigError: The target is not a dotted name, names something dangerous, or
            starts with a module that is not allowed.
    """
    where = f"{path}._target_" if path else "_target_"
    if not isinstance(target, str) or not target or any(c.isspace() for c in target):
        raise ConfigError(f"{where}={target!r} is not a dotted name such as 'package.Class'")
    bad = dangerous_part(target)
    if bad is not None:
        raise ConfigError(
            f"{where}={target!r} is refused: {bad!r} runs code, processes or touches files, "
            "and configs may not call it. Build such behaviour into a class of your own."
        )
    root = target.replace(":", ".").split(".")[0]
    roots = frozenset(allowed) if allowed is not None else allowed_roots()
    if root not in roots:
        if not _findable(root):
            # A typo rather than an attack: say so plainly (nothing was imported to know).
            raise ConfigError(
                f"{where}={target!r} cannot be imported: no module named {root!r} is installed"
            )
        raise ConfigError(
            f"{where}={target!r} is refused: module {root!r} is not pegboard, torch, "
            "Lightning, an active pack's module or a module of the project in the working "
            f"directory. To allow it, set {ALLOW_ENV}={root} (comma-separated for several)."
        )


def check_targets(tree: Any, path: str = "", allowed: Iterable[str] | None = None) -> None:
    """Check every ``_target_`` in a config tree (mappings and lists) with ``check_target``.

    Args:
        tree: A resolved config as plain containers.
        path: Where ``tree`` sits in the config, for messages.
        allowed: Allowed top-level modules; ``allowed_roots()`` by default.
    """
    roots = frozenset(allowed) if allowed is not None else allowed_roots()
    if isinstance(tree, Mapping):
        if "_target_" in tree:
            check_target(tree["_target_"], path, roots)
        for key, value in tree.items():
            if key != "_target_":
                check_targets(value, f"{path}.{key}" if path else str(key), roots)
    elif isinstance(tree, list | tuple):
        for position, value in enumerate(tree):
            check_targets(value, f"{path}[{position}]", roots)


def _reset_caches() -> None:
    """Forget the installed packs read from metadata (for tests that install packs)."""
    _installed_pack_roots.cache_clear()


__all__ = [
    "ALLOW_ENV",
    "BASE_MODULES",
    "allowed_roots",
    "check_target",
    "check_targets",
    "dangerous_part",
    "project_modules",
]
