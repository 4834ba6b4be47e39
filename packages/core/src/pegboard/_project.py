"""Classes of the project in the working directory, found from its files without importing.

A project (a folder with ``configs/`` and a few modules, no packaging) may name its own
classes in configs: ``_target_: my_net.MyNet``. Such a target is allowed only when

* its top-level module is a file or package that really sits inside the working
  directory (symbolic links are followed before the check),
* that name is not also a standard-library or installed module, which the file would
  shadow (or which would be imported instead of it: the launcher appends the working
  directory to ``sys.path``), and
* the last part is a class defined at the top level of that module's source, as ``ast``
  reads it: a name the module merely imports (``os``, ``subprocess.run``) never counts.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import os
import sys
from pathlib import Path


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def _shadows_another_module(name: str, root: Path) -> bool:
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return True
    elsewhere = [entry for entry in sys.path if not _same_folder(entry, root)]
    try:
        # The path finders only look at files: no module code runs.
        return importlib.machinery.PathFinder.find_spec(name, elsewhere) is not None
    except (ImportError, ValueError):
        return True


def _same_folder(entry: str, root: Path) -> bool:
    try:
        return Path(entry or ".").resolve() == root
    except OSError:
        return False


def module_file(module: str, root: Path | None = None) -> Path | None:
    """The source file of project module ``module`` inside ``root``, or ``None``.

    Args:
        module: A dotted module name (``my_net`` or ``mylib.nets``).
        root: The project folder; the working directory by default.
    """
    parts = module.split(".")
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    root = (root or Path.cwd()).resolve()
    if _shadows_another_module(parts[0], root):
        return None
    if parts[0] in sys.modules:
        loaded = getattr(sys.modules[parts[0]], "__file__", None)
        if not loaded or not _inside(Path(loaded), root):
            return None
    folder = root
    for package in parts[:-1]:
        folder = folder / package
        if not (folder / "__init__.py").is_file():
            return None
    last = folder / parts[-1]
    for candidate in (last.with_suffix(".py"), last / "__init__.py"):
        if candidate.is_file() and _inside(candidate, root):
            return candidate
    return None


@functools.lru_cache(maxsize=64)
def _top_level_classes(path: str, mtime_ns: int) -> frozenset[str]:
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))


def project_class_file(target: str, root: Path | None = None) -> Path | None:
    """The project file that defines class ``target`` (``module.Class``), or ``None``.

    Args:
        target: A dotted path as written in ``_target_``.
        root: The project folder; the working directory by default.
    """
    module, _, name = target.rpartition(".")
    path = module_file(module, root) if module else None
    if path is None:
        return None
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return path if name in _top_level_classes(str(path), stamp) else None


def is_project_module(name: str, root: Path | None = None) -> bool:
    """Whether top-level module ``name`` is the project's own (see the module docstring).

    Args:
        name: A top-level module name.
        root: The project folder; the working directory by default.
    """
    return module_file(name, root) is not None


__all__ = ["is_project_module", "module_file", "project_class_file"]
