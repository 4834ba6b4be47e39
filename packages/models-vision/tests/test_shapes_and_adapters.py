"""Clear errors for shapes a model cannot take; the optional timm/torchvision adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from pegboard_models_vision import CifarResNet, ConvNeXt, LeNet5, ResNet, VisionTransformer
from pegboard_models_vision._shapes import plan_strides
from pegboard_models_vision.adapters import MissingExtraError, missing_extra
from pegboard_models_vision.vit import auto_patch_size

ADAPTER_CLASSES = {"timm": "TimmModel", "torchvision": "TorchvisionModel"}


def test_vit_patch_that_does_not_divide_names_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"patch_size=5 .* 32x32.*\[1, 2, 4, 8, 16, 32\]"):
        VisionTransformer([3, 32, 32], 10, patch_size=5)


@pytest.mark.parametrize(("side", "patch"), [(8, 1), (28, 4), (32, 4), (64, 8), (224, 28)])
def test_vit_auto_patch_size_aims_at_an_8x8_grid(side: int, patch: int) -> None:
    assert auto_patch_size(side, side) == patch


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CifarResNet([3, 32, 32], 10, depth=21), "6n\\+2"),
        (lambda: ResNet([3, 32, 32], 10, depth=19), "depth must be one of"),
        (lambda: ResNet([3, 32, 32], 10, stem="tiny"), "stem"),
        (lambda: ConvNeXt([3, 32, 32], 10, depths=[2, 2], dims=[8]), "same"),
        (lambda: LeNet5([1, 3, 3], 10), "at least 4x4"),
        (lambda: ResNet([32, 32], 10), "channels, height, width"),
    ],
)
def test_impossible_shapes_and_sizes_raise_clear_errors(
    build: Callable[[], Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_plan_strides_drops_the_earliest_halvings() -> None:
    assert plan_strides(224, [2, 2, 1, 2, 2, 2], min_size=2) == [2, 2, 1, 2, 2, 2]
    assert plan_strides(32, [1, 2, 2, 2], min_size=2) == [1, 2, 2, 2]
    assert plan_strides(8, [1, 2, 2, 2], min_size=2) == [1, 1, 2, 2]
    assert plan_strides(7, [2, 2], min_size=2, ceil=False) == [1, 2]


@pytest.mark.parametrize(("side", "stem_convs"), [(32, 1), (64, 1), (128, 2)])
def test_resnet_auto_stem_suits_the_image_size(side: int, stem_convs: int) -> None:
    model = ResNet([3, side, side], 10, width=8)
    stem = model.net[0]
    has_pool = any(isinstance(m, torch.nn.MaxPool2d) for m in stem.modules())
    assert has_pool == (stem_convs == 2)
    assert model(torch.randn(2, 3, side, side)).shape == (2, 10)


def test_models_take_non_square_images() -> None:
    for model in (
        ResNet([3, 24, 40], 5, width=8),
        LeNet5([1, 20, 28], 5),
        VisionTransformer([3, 24, 40], 5, dim=16, depth=1, heads=2),
    ):
        assert model(torch.randn(2, *model.hparams.input_shape)).shape == (2, 5)


@pytest.mark.parametrize("library", ["timm", "torchvision"])
def test_adapter_without_its_library_names_the_extra(
    library: str, build_model: Callable[..., Any]
) -> None:
    if missing_extra(library) is None:
        pytest.skip(f"{library} imports here; the missing-library message is not reachable")
    import pegboard_models_vision

    adapter = getattr(pegboard_models_vision, ADAPTER_CLASSES[library])
    with pytest.raises(MissingExtraError, match=rf"pegboard-models-vision\[{library}\]"):
        adapter([1, 8, 8], 10)
    # Through a config, the same error is the cause that `pegboard train` reports.
    with pytest.raises(Exception) as caught:
        build_model(library)
    assert isinstance(caught.value.__cause__ or caught.value, MissingExtraError)


@pytest.mark.parametrize("library", ["timm", "torchvision"])
def test_adapter_builds_and_trains_when_its_library_imports(
    library: str, build_model: Callable[..., Any]
) -> None:
    reason = missing_extra(library)
    if reason:
        pytest.skip(reason)
    model = build_model(library, input_shape=(1, 32, 32))
    logits = model(torch.randn(2, 1, 32, 32))
    assert logits.shape == (2, 10)
    loss = model.training_step((torch.randn(4, 1, 32, 32), torch.arange(4)), 0)
    loss.backward()
