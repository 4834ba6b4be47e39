"""pegboard: Lightning models and datasets from Hydra configs and installable packs.

Importing ``pegboard`` is cheap: torch and Lightning load only when ``Model`` or
``DataModule`` is first touched, and pluggy with ``hookimpl``, so the plugin manifest and
the command line stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pegboard.datamodule import DataModule, PredictInputs
    from pegboard.hookspecs import hookimpl
    from pegboard.model import Model
    from pegboard.supervision import Classes, Values

__all__ = [
    "Classes",
    "DataModule",
    "Model",
    "PredictInputs",
    "Values",
    "__version__",
    "hookimpl",
]

# pluggy loads with the first hook module, torch and Lightning with the first Model.
_LAZY = {
    "Model": "pegboard.model",
    "DataModule": "pegboard.datamodule",
    "PredictInputs": "pegboard.datamodule",
    "Classes": "pegboard.supervision",
    "Values": "pegboard.supervision",
    "hookimpl": "pegboard.hookspecs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pegboard' has no attribute {name!r}")
