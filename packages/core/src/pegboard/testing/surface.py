"""Does every public module of a package say what it offers (``__all__``), and offer it?

Configs and checkpoints name classes by dotted path, so a pack never renames a module to
mark it private; ``__all__`` draws the line instead. Modules whose name has a part that
starts with ``_`` are private and exempt, and so is a config package: a folder of YAML
whose ``__init__.py`` only makes it importable (it may hold a docstring, nothing else).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterable
from pathlib import Path


def public_modules(package: str) -> list[str]:
    """The package and every module below it whose dotted name has no ``_`` part.

    Args:
        package: An importable package name (``pegboard_models_vision``).

    Raises:
        ImportError: A module of the package does not import.
    """

    def fail(name: str) -> None:
        raise ImportError(f"{name} cannot be imported while walking {package}")

    root = importlib.import_module(package)
    found = pkgutil.walk_packages(root.__path__, f"{package}.", onerror=fail)
    names = [package, *sorted(info.name for info in found)]
    return [name for name in names if not any(part.startswith("_") for part in name.split("."))]


def _all_problems(name: str) -> list[str]:
    module = importlib.import_module(name)
    offered = getattr(module, "__all__", None)
    if not isinstance(offered, list | tuple) or not all(isinstance(i, str) for i in offered):
        return [f"{name} declares no __all__ (a list of names)"]
    problems = []
    if len(set(offered)) != len(offered):
        problems.append(f"{name}.__all__ repeats a name")
    private = [item for item in offered if item.startswith("_") and not item.startswith("__")]
    if private:
        problems.append(f"{name}.__all__ offers private names {private}")
    missing = [item for item in offered if not hasattr(module, item)]
    if missing:
        problems.append(f"{name}.__all__ names what it does not define: {missing}")
    return problems


def _marker_problems(name: str) -> list[str]:
    module = importlib.import_module(name)
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    body = ast.parse(source).body
    if all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body):
        return []
    return [f"{name} is a config package but defines Python names: give it an __all__"]


def surface_problems(package: str, config_packages: Iterable[str] = ()) -> list[str]:
    """One line per public module that declares no ``__all__`` or offers what it lacks.

    Args:
        package: An importable package name.
        config_packages: Packages of config files (a manifest's ``configs``): exempt
            from ``__all__``, but they must stay markers without Python names.
    """
    markers = set(config_packages)
    problems = []
    for name in public_modules(package):
        problems += _marker_problems(name) if name in markers else _all_problems(name)
    return problems


__all__ = ["public_modules", "surface_problems"]
