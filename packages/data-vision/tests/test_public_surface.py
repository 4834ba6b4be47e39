"""Every public module of the pack says what it offers in ``__all__``, and offers it.

Configs and checkpoints name classes by dotted path, so modules are never renamed to
mark them private; ``__all__`` draws the line instead. Modules whose name starts with
``_`` (the manifest, shape helpers) are private and exempt, and so is the config
package, a folder of YAML whose ``__init__.py`` only makes it importable.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import pegboard_data_vision as package

MANIFEST = "pegboard_data_vision._plugin"


def _walk_error(name: str) -> None:
    raise ImportError(f"{name} cannot be imported while walking the package")


def _modules() -> list[str]:
    found = pkgutil.walk_packages(package.__path__, f"{package.__name__}.", onerror=_walk_error)
    return [package.__name__, *sorted(info.name for info in found)]


MODULES = _modules()
CONFIGS = importlib.import_module(MANIFEST).plugin.configs
PUBLIC = [
    name
    for name in MODULES
    if name != CONFIGS and not any(part.startswith("_") for part in name.split("."))
]


def test_every_module_is_walked() -> None:
    assert MANIFEST in MODULES
    assert CONFIGS in MODULES
    assert len(PUBLIC) > 5, PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_public_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    offered = getattr(module, "__all__", None)
    assert isinstance(offered, (list, tuple)), f"{name} declares no __all__"
    assert all(isinstance(item, str) for item in offered), f"{name}.__all__ holds a non-string"
    assert len(set(offered)) == len(offered), f"{name}.__all__ repeats a name"
    private = [item for item in offered if item.startswith("_") and not item.startswith("__")]
    assert not private, f"{name}.__all__ offers private names {private}"
    missing = [item for item in offered if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def test_config_package_is_only_a_marker() -> None:
    """The config package holds YAML; Python names there would need an ``__all__``."""
    module = importlib.import_module(CONFIGS)
    assert module.__file__ is not None
    body = ast.parse(Path(module.__file__).read_text(encoding="utf-8")).body
    docstring_only = all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body
    )
    assert docstring_only, f"{CONFIGS}/__init__.py defines Python names: give it an __all__"
