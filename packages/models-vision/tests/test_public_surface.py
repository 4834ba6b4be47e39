"""Every public module of the pack says what it offers in ``__all__``, and offers it."""

from __future__ import annotations

from pegboard.testing.surface import public_modules, surface_problems
from pegboard_models_vision._plugin import plugin


def test_every_public_module_declares_what_it_offers() -> None:
    assert len(public_modules("pegboard_models_vision")) > 5
    assert surface_problems("pegboard_models_vision", [plugin.configs]) == []
