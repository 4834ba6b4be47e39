"""Vision models for pegboard. Classes load lazily: importing the package stays cheap."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {"MLP": "pegboard_models_vision.mlp", "CNN": "pegboard_models_vision.cnn"}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pegboard_models_vision' has no attribute {name!r}")
