"""The core conformance kit over every model config the pack ships, as third parties run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PLUGIN, SLIM

from pegboard import testing as kit
from pegboard.testing.suite import PackTestSuite


class TestModelsVisionPack(PackTestSuite):
    """Manifest, compose, and per option: train, predict, reload, export (kit shapes 1x8x8).

    The adapters (timm, torchvision) are skipped with the extra to install where their
    library does not import. Large configs run as their slim variants: the checks cover
    the architecture, not its width (test_training trains every config at full size).
    """

    plugin = PLUGIN
    option_overrides = SLIM


def test_manifest_names_every_class() -> None:
    import pegboard_models_vision

    manifest = kit.load_plugin(PLUGIN)
    advertised = {target.rpartition(":")[2] for target in manifest.models.values()}
    assert advertised == set(pegboard_models_vision.__all__)


@pytest.mark.parametrize("option", ["lenet", "resnet20", "vit", "convnext", "mobilenet_v2"])
def test_model_on_rgb_32(option: str, tmp_path: Path) -> None:
    """The same configs fit CIFAR-shaped data (3x32x32, 100 classes) unchanged."""
    kit.check_model(PLUGIN, option, tmp_path, input_shape=(3, 32, 32), num_classes=100)
