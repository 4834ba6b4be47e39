"""Every public module of pegboard says what it offers, and offers only what exists."""

from __future__ import annotations

import importlib
import pkgutil

import pegboard


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(pegboard.__path__, "pegboard."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or "conf" in parts:
            continue  # private modules, and the config folders (data, not code)
        names.append(info.name)
    return names


def test_each_public_module_declares_its_surface() -> None:
    modules = _public_modules()
    assert "pegboard.plugin" in modules and "pegboard.runner.train" in modules
    missing = [name for name in modules if not hasattr(importlib.import_module(name), "__all__")]
    assert missing == []
    for name in modules:
        module = importlib.import_module(name)
        absent = [item for item in module.__all__ if not hasattr(module, item)]
        assert absent == [], f"{name}.__all__ names what it does not define: {absent}"


def test_runner_helpers_are_not_offered_beside_the_contract() -> None:
    import pegboard.runner.build as build

    assert "echo" not in build.__all__ and not hasattr(build, "echo")
