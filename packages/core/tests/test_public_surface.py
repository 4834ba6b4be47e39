"""Every public module of pegboard says what it offers, and offers only what exists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pegboard.testing.surface import public_modules, surface_problems


def test_each_public_module_declares_its_surface() -> None:
    modules = public_modules("pegboard")
    assert "pegboard.plugin" in modules and "pegboard.runner.train" in modules
    assert "pegboard._compat" not in modules
    assert surface_problems("pegboard", ["pegboard.conf", "pegboard.testing.conf"]) == []


def test_runner_helpers_are_not_offered_beside_the_contract() -> None:
    import pegboard.runner.build as build

    assert "echo" not in build.__all__ and not hasattr(build, "echo")


def test_the_kit_names_each_module_that_hides_or_overstates_its_surface(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "acme_surface"
    (package / "conf").mkdir(parents=True)
    (package / "__init__.py").write_text('__all__ = ["ghost"]\n')
    (package / "plain.py").write_text("def helper() -> None: ...\n")
    (package / "_private.py").write_text("x = 1\n")
    (package / "conf" / "__init__.py").write_text("ANSWER = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        problems = surface_problems("acme_surface", ["acme_surface.conf"])
    finally:
        for name in [n for n in sys.modules if n.startswith("acme_surface")]:
            del sys.modules[name]
    assert problems == [
        "acme_surface.__all__ names what it does not define: ['ghost']",
        "acme_surface.conf is a config package but defines Python names: give it an __all__",
        "acme_surface.plain declares no __all__ (a list of names)",
    ]
