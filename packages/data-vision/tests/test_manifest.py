"""The pack keeps the plugin contract: manifest, light import, every config composes."""

from __future__ import annotations

from pegboard import testing as kit

PLUGIN = "pegboard_data_vision._plugin:plugin"

OPTIONS = [
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "image_folder",
    "kmnist",
    "mnist",
    "svhn",
    "synthetic",
]


def test_manifest() -> None:
    kit.check_manifest(PLUGIN)


def test_every_dataset_has_a_config() -> None:
    assert kit.config_options(PLUGIN, "data") == OPTIONS
    assert sorted(kit.load_plugin(PLUGIN).datamodules) == OPTIONS


def test_configs_compose(tmp_path) -> None:
    kit.check_configs_compose(PLUGIN, tmp_path, overrides=["data.num_classes=3"])
