"""Read a pack's plugin API version from its manifest's source, without running any of it.

A pack built for another plugin API must be skipped before its code runs: importing
``acme._plugin`` runs ``acme/__init__.py`` first, and code written against another API
may fail, or worse, do something at import. So the manifest module's file is found
through the distribution's own file list (``RECORD``) or, for editable installs and
plain folders on the path, by looking for it in each ``sys.path`` folder in order, as
the import system would; and ``api=`` is read from the syntax tree. Where it cannot be
read statically (computed, imported from elsewhere), discovery falls back to importing.
"""

from __future__ import annotations

import ast
import os
import sys
from importlib.metadata import Distribution
from pathlib import Path


def _relative_candidates(module: str) -> list[str]:
    parts = module.split(".")
    return ["/".join(parts) + ".py", "/".join([*parts, "__init__.py"])]


def manifest_file(module: str, dist: Distribution | None) -> Path | None:
    """The source file of ``module`` found without importing it or its parent packages.

    Args:
        module: Dotted module name of the manifest (``acme_pegboard._plugin``).
        dist: The distribution that declares the entry point, when known.
    """
    candidates = _relative_candidates(module)
    if dist is not None:
        for record in dist.files or ():
            if record.as_posix() in candidates:
                located = Path(str(dist.locate_file(record)))
                if located.is_file():
                    return located
    # Editable installs (a .pth line or a src folder on sys.path) and loose folders:
    # the first sys.path folder holding the file is the one `import` would use.
    for entry in sys.path:
        folder = entry or os.getcwd()
        for relative in candidates:
            path = Path(folder, relative)
            if path.is_file():
                return path
    return None


def _int_value(node: ast.expr | None, constants: dict[str, int]) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def read_api(source: str, attribute: str) -> int | None:
    """The ``api`` of ``<attribute> = Plugin(api=...)`` in ``source``, or ``None`` if unsure.

    Only literal ints, or names bound to literal ints at module level, are read: anything
    computed is left to the import.

    Args:
        source: Python source of the manifest module.
        attribute: Name of the manifest variable (the part after ``:`` in the entry point).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    constants: dict[str, int] = {}
    found: int | None = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            names = [t.id for t in statement.targets if isinstance(t, ast.Name)]
            value: ast.expr | None = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names, value = [statement.target.id], statement.value
        else:
            continue
        literal = _int_value(value, constants)
        for name in names:
            if literal is not None:
                constants[name] = literal
        if attribute in names:
            # The last binding wins, as at run time.
            found = _api_of_call(value, constants)
    return found


def _api_of_call(value: ast.expr | None, constants: dict[str, int]) -> int | None:
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name != "Plugin":
        return None
    for keyword in value.keywords:
        if keyword.arg == "api":
            return _int_value(keyword.value, constants)
    return _int_value(value.args[0], constants) if value.args else None


def static_api(entry_point_value: str, dist: Distribution | None) -> int | None:
    """The plugin API a pack declares, read from source; ``None`` when it cannot be read.

    Args:
        entry_point_value: ``"module:attribute"`` of the manifest.
        dist: The distribution that declares the entry point.
    """
    module, _, attribute = entry_point_value.partition(":")
    if not attribute or "." in attribute:
        return None
    path = manifest_file(module.strip(), dist)
    if path is None:
        return None
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return read_api(source, attribute.strip())
