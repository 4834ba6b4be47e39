"""Every public module of the pack says what it offers in ``__all__``, and offers it."""

from __future__ import annotations

import importlib

import pegboard_tabular
from pegboard.testing.surface import public_modules, surface_problems
from pegboard_tabular._plugin import plugin


def test_every_public_module_declares_what_it_offers() -> None:
    assert len(public_modules("pegboard_tabular")) > 5
    assert surface_problems("pegboard_tabular", [plugin.configs]) == []


def test_the_package_exports_every_datamodule_the_manifest_names() -> None:
    for target in plugin.datamodules.values():
        module, name = target.split(":")
        assert getattr(pegboard_tabular, name) is getattr(importlib.import_module(module), name)
    assert pegboard_tabular.TabularDataModule.__module__ == "pegboard_tabular.base"
