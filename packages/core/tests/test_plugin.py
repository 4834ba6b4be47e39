"""The plugin manifest is plain, validated data."""

from __future__ import annotations

import pytest

from pegboard.errors import PluginError
from pegboard.plugin import API_VERSION, SUPPORTED_API_VERSIONS, Plugin, config_options, load_object


def test_manifest_holds_dotted_names() -> None:
    plugin = Plugin(api=API_VERSION, configs="acme.conf", models={"net": "acme.net:Net"})
    assert plugin.supported
    assert plugin.classes == {"net": "acme.net:Net"}


def test_manifest_mappings_are_read_only() -> None:
    plugin = Plugin(api=1, models={"net": "acme.net:Net"})
    with pytest.raises(TypeError):
        plugin.models["other"] = "acme:Other"  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api": "1"}, "api must be an int"),
        ({"api": True}, "api must be an int"),
        ({"api": 1, "configs": "acme/conf"}, "dotted package name"),
        ({"api": 1, "models": {"net": "acme.net.Net"}}, "'module:Class'"),
        ({"api": 1, "datamodules": {"bad name": "acme:Data"}}, "invalid name"),
        ({"api": 1, "models": ["acme:Net"]}, "must be a mapping"),
    ],
)
def test_invalid_manifest_says_what_is_wrong(kwargs: dict, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        Plugin(**kwargs)


def test_unsupported_api_is_flagged() -> None:
    assert not Plugin(api=max(SUPPORTED_API_VERSIONS) + 1).supported


def test_config_options_lists_groups_of_a_package() -> None:
    options = config_options("pegboard.conf")
    assert {"cpu", "default", "ddp", "ddp_cpu", "gpu"} <= set(options["trainer"])
    assert {"csv", "none", "tensorboard"} <= set(options["logger"])
    assert "train" not in options  # primary configs are not options


def test_load_object_resolves_nested_attributes() -> None:
    assert load_object("pegboard.plugin:Plugin.supported") is Plugin.supported
