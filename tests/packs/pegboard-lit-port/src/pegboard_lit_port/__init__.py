"""pegboard-lit-port: a plain LightningModule ported to pegboard (a test pack).

Classes load lazily: the launcher imports this package to read the manifest at every
start, and must not pay for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {"LitClassifier": "pegboard_lit_port.lit_module", "MLP": "pegboard_lit_port.lit_module"}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pegboard_lit_port' has no attribute {name!r}")
