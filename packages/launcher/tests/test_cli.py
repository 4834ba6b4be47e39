"""The pegboard command, in-process: help, plugins listing, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pegboard_launcher.cli import main


def test_main_help_lists_commands(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "plugins" in out and "usage: pegboard COMMAND" in out


def test_unknown_command_lists_valid_ones(capsys) -> None:
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'trian'; choose one of: " in err
    assert "train" in err and "plugins" in err


def test_plugins_without_packs(pack_dir, capsys) -> None:
    assert main(["plugins"]) == 0
    assert "No pegboard packs are installed" in capsys.readouterr().out


def test_plugins_lists_packs_options_and_classes(working_packs, add_pack, capsys) -> None:
    add_pack("broken-pack", version="0.1.0", manifest="raise ValueError('bad manifest')\n")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "acme-models 1.0.0  (plugin API 1, entry point acme-models)" in out
    assert "model: tiny" in out and "data: tiny_images" in out
    assert "BROKEN: broken-pack 0.1.0: its manifest broken_pack._plugin:plugin failed" in out


def test_plugins_json_is_machine_readable(working_packs, capsys) -> None:
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    packs = {pack["name"]: pack for pack in data["packs"]}
    assert packs["acme-data"]["options"] == {"data": ["tiny_images"]}
    assert packs["acme-models"]["api"] == 1
    assert data["collisions"] == [] and data["problems"] == []


def test_plugins_shows_project_shadowing(working_packs, capsys) -> None:
    folder = Path.cwd() / "configs" / "model"
    folder.mkdir(parents=True)
    (folder / "tiny.yaml").write_text("a: 1\n")
    main(["plugins"])
    assert "SHADOWED: model/tiny from project configs/ replaces the one from acme-models" in (
        capsys.readouterr().out
    )


def test_plugins_rejects_unknown_flags(capsys) -> None:
    assert main(["plugins", "--yaml"]) == 2
    assert "unknown argument '--yaml'" in capsys.readouterr().err


def test_train_help_lists_every_option_with_its_provider(working_packs, capsys) -> None:
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()]
    assert ["tiny", "acme-models"] in lines
    assert ["tiny_images", "acme-data"] in lines
    assert ["csv", "*", "pegboard-core"] in lines
    assert "model: (no option installed; the default is cnn)" not in out


def test_train_help_says_when_a_default_group_is_missing(pack_dir, capsys) -> None:
    main(["train", "--help"])
    assert "model: (no option installed; the default is cnn)" in capsys.readouterr().out


@pytest.mark.parametrize("order", [("a-pack", "b-pack"), ("b-pack", "a-pack")])
def test_train_refuses_conflicting_packs(add_pack, capsys, order) -> None:
    for name in order:
        add_pack(name, configs={"model/same.yaml": "a: 1\n"})
    assert main(["train"]) == 2
    assert "model/same.yaml is shipped by both a-pack and b-pack" in capsys.readouterr().err
