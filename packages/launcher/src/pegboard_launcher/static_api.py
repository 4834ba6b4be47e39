"""Read a pack's plugin API version from its manifest's source, without running any of it.

A pack built for another plugin API must be skipped before its code runs: importing
``acme._plugin`` runs ``acme/__init__.py`` first, and code written against another API
may fail, or worse, do something at import. So the manifest module's file is found
beside the distribution's metadata (where a wheel installs it) or, for editable installs and
plain folders on the path, by looking for it in each ``sys.path`` folder in order, as
the import system would; and ``api=`` is read from the syntax tree. Where it cannot be
read statically (computed, imported from elsewhere), discovery falls back to importing.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from importlib.metadata import Distribution
from pathlib import Path
from typing import Any


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
        # A wheel installs its modules beside its dist-info folder: look there directly
        # (parsing the whole RECORD file of every pack at every start costs too much).
        for relative in candidates:
            located = str(dist.locate_file(relative))
            if os.path.isfile(located):
                return Path(located)
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
    tree = _parse(source)
    return None if tree is None else _api_in(tree, attribute)


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _api_in(tree: ast.Module, attribute: str) -> int | None:
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


_PLUGIN_FIELDS = ("api", "configs", "models", "datamodules", "hooks")


def _is_plugin_import(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.ImportFrom)
        and statement.level == 0
        and statement.module in ("pegboard.plugin", "__future__")
        and (statement.module == "__future__" or all(a.name == "Plugin" for a in statement.names))
    )


def _manifest_in(tree: ast.Module, attribute: str) -> dict[str, Any] | None:
    """The ``Plugin(...)`` arguments of a manifest module that is nothing but data.

    A module made only of a docstring, ``from pegboard.plugin import Plugin``, literal
    constants and ``<attribute> = Plugin(<literals>)`` does nothing when imported but
    build that manifest: discovery can build it from the source and import nothing of
    the pack. Any other statement returns ``None``, and the module is imported.

    Args:
        tree: The manifest module's syntax tree.
        attribute: Name of the manifest variable.
    """
    constants: dict[str, Any] = {}
    found: dict[str, Any] | None = None

    def literal(node: ast.expr) -> Any:
        if isinstance(node, ast.Name) and node.id in constants:
            return constants[node.id]
        return ast.literal_eval(node)

    for statement in tree.body:
        if _is_plugin_import(statement) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            continue
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            return None
        name, value = statement.targets[0].id, statement.value
        try:
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                if value.func.id != "Plugin" or len(value.args) > len(_PLUGIN_FIELDS):
                    return None
                arguments = dict(zip(_PLUGIN_FIELDS, map(literal, value.args), strict=False))
                for keyword in value.keywords:
                    if keyword.arg is None:
                        return None
                    arguments[keyword.arg] = literal(keyword.value)
                if name == attribute:
                    found = arguments
                continue
            constants[name] = literal(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    return found


def config_folder(manifest: Path, module: str, configs: str) -> Path | None:
    """The folder of config package ``configs``, found next to the manifest's package.

    Args:
        manifest: The manifest module's file.
        module: The manifest module's dotted name.
        configs: The config package's dotted name.
    """
    depth = module.count(".") + (1 if manifest.name == "__init__.py" else 0)
    # os.path, not pathlib: discovery does this for every installed pack at every start.
    root = os.path.dirname(os.fspath(manifest))
    for _ in range(depth):
        root = os.path.dirname(root)
    folder = os.path.join(root, *configs.split("."))
    return Path(folder) if os.path.isfile(os.path.join(folder, "__init__.py")) else None


@dataclass(frozen=True)
class StaticManifest:
    """What the manifest's source tells without running it.

    Args:
        file: The manifest module's file, when found.
        api: The declared plugin API, when it is a literal.
        arguments: The ``Plugin(...)`` arguments, when the module is nothing but data.
    """

    file: Path | None = None
    api: int | None = None
    arguments: dict[str, Any] | None = None


def read_static(entry_point_value: str, dist: Distribution | None) -> StaticManifest:
    """Read a pack's manifest from its source file, running none of the pack's code.

    Args:
        entry_point_value: ``"module:attribute"`` of the manifest.
        dist: The distribution that declares the entry point.
    """
    module, _, attribute = entry_point_value.partition(":")
    module, attribute = module.strip(), attribute.strip()
    if not attribute or "." in attribute:
        return StaticManifest()
    path = manifest_file(module, dist)
    if path is None:
        return StaticManifest()
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return StaticManifest(path)
    tree = _parse(source)
    if tree is None:
        return StaticManifest(path)
    arguments = _manifest_in(tree, attribute)
    api = arguments.get("api") if arguments else None
    # A manifest that is plain data states its api; only other forms need the search.
    if type(api) is not int:
        api = _api_in(tree, attribute)
    return StaticManifest(path, api, arguments)


def static_api(entry_point_value: str, dist: Distribution | None) -> int | None:
    """The plugin API a pack declares, read from source; ``None`` when it cannot be read.

    Args:
        entry_point_value: ``"module:attribute"`` of the manifest.
        dist: The distribution that declares the entry point.
    """
    return read_static(entry_point_value, dist).api
