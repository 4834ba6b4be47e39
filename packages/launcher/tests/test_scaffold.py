"""``pegboard new-pack``: names, refusals, and a generated pack that passes the kit."""

from __future__ import annotations

from pathlib import Path

import pytest

from pegboard import testing as kit
from pegboard.errors import PegboardError
from pegboard.plugin import API_VERSION
from pegboard_launcher.cli import main
from pegboard_launcher.scaffold import pack_names, write_pack
from pegboard_launcher.static_api import static_api


def test_names_derive_from_the_distribution_name() -> None:
    names = pack_names("acme-vision")
    assert (names.dist, names.module, names.camel) == ("acme-vision", "acme_vision", "AcmeVision")
    assert (names.model_option, names.data_option) == ("acme_vision_net", "acme_vision_blobs")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Acme", "lower-case"),
        ("9lives", "lower-case"),
        ("acme--x", "lower-case"),
        ("acme vision", "lower-case"),
        ("json", "taken by Python"),
        ("pegboard", "taken by Python, pegboard"),
        ("class", "taken"),
    ],
)
def test_bad_names_are_refused_with_a_reason(name: str, why: str) -> None:
    with pytest.raises(PegboardError, match=why):
        pack_names(name)


def test_existing_folder_is_never_overwritten(tmp_path: Path, capsys) -> None:
    (tmp_path / "acme-vision").mkdir()
    assert main(["new-pack", "acme-vision", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert list((tmp_path / "acme-vision").iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "files"),
    [
        ("models", {"model.py", "conf/model/acme_x_net.yaml"}),
        ("data", {"data.py", "conf/data/acme_x_blobs.yaml"}),
    ],
)
def test_kind_chooses_the_samples(tmp_path: Path, kind: str, files: set[str]) -> None:
    root = write_pack("acme-x", kind, tmp_path)
    package = root / "src" / "acme_x"
    written = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert written == {"__init__.py", "_plugin.py", "conf/__init__.py", *files}
    assert (root / "tests" / "test_pack.py").is_file() and (root / "README.md").is_file()


def test_generated_pack_passes_the_conformance_kit(tmp_path: Path, monkeypatch, capsys) -> None:
    assert main(["new-pack", "acme-both", "--kind", "both", "--dir", str(tmp_path)]) == 0
    assert "pegboard train model=acme_both_net data=acme_both_blobs" in capsys.readouterr().out
    root = tmp_path / "acme-both"
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."pegboard.plugins"]' in pyproject
    assert 'acme-both = "acme_both._plugin:plugin"' in pyproject
    assert '"pegboard-core>=0.1,<0.2"' in pyproject
    assert "PackTestSuite" in (root / "tests" / "test_pack.py").read_text()
    monkeypatch.syspath_prepend(str(root / "src"))
    monkeypatch.setenv("PYTHONPATH", str(root / "src"))
    plugin = "acme_both._plugin:plugin"
    assert static_api(plugin, None) == API_VERSION
    kit.check_manifest(plugin)
    kit.check_configs_compose(plugin, tmp_path / "compose")
    kit.check_model(plugin, "acme_both_net", tmp_path / "model")
    assert kit.check_export(plugin, "acme_both_net", tmp_path / "export")[0] == "torchscript"
    kit.check_datamodule(plugin, "acme_both_blobs", tmp_path / "data")


def test_generated_hook_pack_fits_the_hook_specs(tmp_path: Path, monkeypatch, capsys) -> None:
    assert main(["new-pack", "acme-tools", "--kind", "hooks", "--dir", str(tmp_path)]) == 0
    assert "pegboard acme-tools-runs" in capsys.readouterr().out
    package = tmp_path / "acme-tools" / "src" / "acme_tools"
    written = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert written == {"__init__.py", "_plugin.py", "hooks.py", "callbacks.py"}
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.setenv("PYTHONPATH", str(package.parent))
    plugin = "acme_tools._plugin:plugin"
    kit.check_manifest(plugin)
    assert kit.check_hooks(plugin) == [
        "pegboard_callbacks",
        "pegboard_commands",
        "pegboard_export_formats",
        "pegboard_predict_formats",
        "pegboard_resolvers",
        "pegboard_run_finished",
    ]
