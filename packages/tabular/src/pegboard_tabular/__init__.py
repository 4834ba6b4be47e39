"""Tabular data and models for pegboard. Classes load lazily: importing the package stays cheap."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Every public class and the module that defines it (imported on first access).
_LAZY = {
    "TabularMLP": "pegboard_tabular.mlp",
    "TabularResMLP": "pegboard_tabular.resmlp",
    "FTTransformer": "pegboard_tabular.ft_transformer",
    "TabularDataModule": "pegboard_tabular.base",
    "IrisDataModule": "pegboard_tabular.datasets",
    "WineDataModule": "pegboard_tabular.datasets",
    "BreastCancerDataModule": "pegboard_tabular.datasets",
    "DiabetesDataModule": "pegboard_tabular.datasets",
    "CsvDataModule": "pegboard_tabular.csv_data",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pegboard_tabular' has no attribute {name!r}")
