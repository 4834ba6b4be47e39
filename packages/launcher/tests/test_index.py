"""The option index: who provides what, collisions between packs, project shadowing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pegboard.errors import PluginError
from pegboard_launcher.discovery import discover
from pegboard_launcher.index import CORE, PROJECT, build_index, check_collisions


def test_options_are_attributed_to_their_provider(add_pack) -> None:
    add_pack(
        "acme-models", configs={"model/net.yaml": "a: 1\n", "experiment/vision/long.yaml": "b: 2\n"}
    )
    index = build_index(discover())
    assert index.options("model") == {"net": ["acme-models"]}
    assert index.options("experiment")["vision/long"] == ["acme-models"]
    assert index.options("trainer")["default"] == [CORE]


@pytest.mark.parametrize("order", [("one-pack", "two-pack"), ("two-pack", "one-pack")])
def test_same_option_in_two_packs_is_an_error_naming_both(add_pack, order) -> None:
    for name in order:
        add_pack(name, configs={"model/resnet18.yaml": "a: 1\n"})
    with pytest.raises(PluginError) as error:
        check_collisions(build_index(discover()))
    assert "model/resnet18.yaml is shipped by both one-pack and two-pack" in str(error.value)


def test_pack_option_colliding_with_core_is_an_error(add_pack) -> None:
    add_pack("rogue-pack", configs={"trainer/default.yaml": "a: 1\n"})
    with pytest.raises(
        PluginError, match=r"trainer/default\.yaml is shipped by both pegboard-core and rogue-pack"
    ):
        check_collisions(build_index(discover()))


def test_project_configs_shadow_packs_on_purpose(add_pack, pack_dir: Path) -> None:
    add_pack("acme-models", configs={"model/net.yaml": "a: 1\n"})
    project = Path.cwd() / "configs" / "model"
    project.mkdir(parents=True)
    (project / "net.yaml").write_text("a: 2\n")
    (project / "mine.yaml").write_text("a: 3\n")
    index = build_index(discover())
    check_collisions(index)  # shadowing is not a conflict
    assert index.options("model") == {"mine": [PROJECT], "net": [PROJECT, "acme-models"]}
    assert index.shadowed() == [("model", "net", ["acme-models"])]
