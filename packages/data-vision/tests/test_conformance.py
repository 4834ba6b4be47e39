"""The pack keeps the plugin contract: the core conformance suite, as third parties run it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pegboard import testing as kit
from pegboard.testing.suite import PackTestSuite
from pegboard_data_vision import testing as files

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

#: Small files in each dataset's real format (no download here); MNIST gzipped, KMNIST not.
WRITERS: dict[str, Callable[[Path], Any]] = {
    "mnist": lambda folder: files.write_mnist(folder, gz=True),
    "fashion_mnist": lambda folder: files.write_mnist(folder, gz=True),
    "kmnist": lambda folder: files.write_mnist(folder, gz=False),
    "cifar10": files.write_cifar10,
    "cifar100": files.write_cifar100,
    "svhn": files.write_svhn,
    "image_folder": files.write_image_folder,
}
#: Values an option leaves to the user, and smaller synthetic splits.
EXTRA = {
    "image_folder": ["data.num_classes=3"],
    "synthetic": ["data.train_size=64", "data.test_size=16"],
}


class TestDataVisionPack(PackTestSuite):
    """Manifest, compose, and per dataset: batches of every split match the declaration."""

    plugin = PLUGIN
    # image_folder has no default number of classes: its user gives one.
    compose_overrides = ("data.num_classes=3",)

    def data_option_overrides(self, option: str, tmp_path: Path) -> Sequence[str]:
        overrides = list(EXTRA.get(option, []))
        if option in WRITERS:
            WRITERS[option](tmp_path / option)
            overrides.append(f"data.data_dir={tmp_path / option}")
        return overrides


def test_every_dataset_has_a_config() -> None:
    assert kit.config_options(PLUGIN, "data") == OPTIONS
    assert sorted(kit.load_plugin(PLUGIN).datamodules) == OPTIONS
