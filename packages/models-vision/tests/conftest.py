"""Shared helpers: build a pack model from its config as ``pegboard train`` would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pegboard import testing as kit

PLUGIN = "pegboard_models_vision._plugin:plugin"
ADAPTERS = {"timm": "timm", "torchvision": "torchvision"}
#: Every config the pack ships, and those built from pure PyTorch (no optional extra).
OPTIONS = kit.config_options(PLUGIN, "model")
NATIVE = [option for option in OPTIONS if option not in ADAPTERS]
#: Narrower versions of the large configs: export covers the architecture, not its width.
SLIM = {
    "resnet18": ["model.width=8"],
    "resnet34": ["model.width=8"],
    "resnet50": ["model.width=8"],
    "wide_resnet": ["model.widen_factor=1"],
    "mobilenet_v2": ["model.width_mult=0.25", "model.last_channels=64"],
    "vit_tiny": ["model.dim=48", "model.depth=2"],
}


def skip_if_extra_missing(option: str) -> None:
    """Skip an adapter config whose library cannot be imported, saying which extra to install.

    Args:
        option: A model option.
    """
    if option in ADAPTERS:
        from pegboard_models_vision.adapters import missing_extra

        reason = missing_extra(ADAPTERS[option])
        if reason:
            pytest.skip(reason)


@pytest.fixture
def build_model(tmp_path: Path) -> Callable[..., Any]:
    """Return ``build(option, input_shape, overrides)``: the model its config describes."""

    def build(
        option: str,
        input_shape: Sequence[int] = (1, 8, 8),
        overrides: Sequence[str] = (),
        num_classes: int = 10,
    ) -> Any:
        from hydra.utils import instantiate

        node, _ = kit.model_configs(PLUGIN, option, tmp_path, input_shape, num_classes, overrides)
        return instantiate(node, _convert_="all")

    return build
