"""The core conformance kit over every model config the pack ships."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import OPTIONS, PLUGIN, skip_if_extra_missing

from pegboard import testing as kit


def test_manifest() -> None:
    kit.check_manifest(PLUGIN)


def test_manifest_names_every_class() -> None:
    import pegboard_models_vision

    manifest = kit.load_plugin(PLUGIN)
    advertised = {target.rpartition(":")[2] for target in manifest.models.values()}
    assert advertised == set(pegboard_models_vision.__all__)


def test_configs_compose(tmp_path: Path) -> None:
    kit.check_configs_compose(PLUGIN, tmp_path)


@pytest.mark.parametrize("option", OPTIONS)
def test_model_on_digits_shape(option: str, tmp_path: Path) -> None:
    """Each config trains a step, predicts and reloads on 8x8 one-channel images."""
    skip_if_extra_missing(option)
    kit.check_model(PLUGIN, option, tmp_path)


@pytest.mark.parametrize("option", ["lenet", "resnet20", "vit", "convnext", "mobilenet_v2"])
def test_model_on_rgb_32(option: str, tmp_path: Path) -> None:
    """The same configs fit CIFAR-shaped data (3x32x32, 100 classes) unchanged."""
    kit.check_model(PLUGIN, option, tmp_path, input_shape=(3, 32, 32), num_classes=100)
