"""The conformance kit, run against its own stand-in pack and against broken ones."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pegboard import testing as kit

KIT_PLUGIN = "pegboard.testing._plugin:plugin"


def test_kit_manifest_passes() -> None:
    kit.check_manifest(KIT_PLUGIN)


def test_kit_configs_compose(tmp_path: Path) -> None:
    kit.check_configs_compose(KIT_PLUGIN, tmp_path)


@pytest.mark.parametrize("option", kit.config_options(KIT_PLUGIN, "model"))
def test_kit_model_trains_and_reloads(option: str, tmp_path: Path) -> None:
    kit.check_model(KIT_PLUGIN, option, tmp_path, input_shape=(3, 4, 4), num_classes=3)


@pytest.mark.parametrize("option", kit.config_options(KIT_PLUGIN, "data"))
def test_kit_datamodule_matches_its_declaration(option: str, tmp_path: Path) -> None:
    kit.check_datamodule(KIT_PLUGIN, option, tmp_path)


@pytest.fixture
def broken_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module ``broken_pack`` on the path (also for subprocesses) to hold bad manifests."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    yield tmp_path
    sys.modules.pop("broken_pack", None)


def _write(folder: Path, code: str) -> None:
    (folder / "broken_pack.py").write_text(textwrap.dedent(code))
    sys.modules.pop("broken_pack", None)


def test_kit_rejects_a_manifest_that_imports_torch(broken_pack: Path) -> None:
    _write(
        broken_pack,
        """
        import torch
        from pegboard.plugin import Plugin
        plugin = Plugin(api=1)
    """,
    )
    with pytest.raises(AssertionError, match="imports torch"):
        kit.check_manifest("broken_pack:plugin")


def test_kit_rejects_a_class_that_is_not_a_model(broken_pack: Path) -> None:
    _write(
        broken_pack,
        """
        from pegboard.plugin import Plugin
        plugin = Plugin(api=1, models={"net": "collections:OrderedDict"})
    """,
    )
    with pytest.raises(AssertionError, match=r"not a subclass of pegboard\.model\.Model"):
        kit.check_manifest("broken_pack:plugin")


def test_kit_rejects_an_unsupported_api(broken_pack: Path) -> None:
    _write(
        broken_pack,
        """
        from pegboard.plugin import Plugin
        plugin = Plugin(api=99)
    """,
    )
    with pytest.raises(AssertionError, match="plugin API 99"):
        kit.check_manifest("broken_pack:plugin")


def test_kit_rejects_something_that_is_not_a_manifest(broken_pack: Path) -> None:
    _write(broken_pack, "plugin = {'api': 1}\n")
    with pytest.raises(AssertionError, match=r"not a pegboard\.plugin\.Plugin"):
        kit.check_manifest("broken_pack:plugin")
