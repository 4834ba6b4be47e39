"""Vision models for pegboard. Classes load lazily: importing the package stays cheap."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Every public class and the module that defines it (imported on first access).
_LAZY = {
    "MLP": "pegboard_models_vision.mlp",
    "CNN": "pegboard_models_vision.cnn",
    "LeNet5": "pegboard_models_vision.lenet",
    "ResNet": "pegboard_models_vision.resnet",
    "CifarResNet": "pegboard_models_vision.resnet",
    "WideResNet": "pegboard_models_vision.wide_resnet",
    "MobileNetV2": "pegboard_models_vision.mobilenet",
    "VisionTransformer": "pegboard_models_vision.vit",
    "ConvNeXt": "pegboard_models_vision.convnext",
    "TimmModel": "pegboard_models_vision.adapters",
    "TorchvisionModel": "pegboard_models_vision.adapters",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pegboard_models_vision' has no attribute {name!r}")
