"""``CsvDataModule``: a user's own table, from a CSV, TSV or Parquet file.

The task follows the target column unless ``task`` says otherwise (the rule is in
``pegboard_tabular.targets``: text, booleans, or at most 10 distinct whole numbers are
classes; other numbers are values). Features are every other column but those in
``drop``, numbers standardized and text one-hot encoded (``pegboard_tabular.preprocess``
states the rules, missing values included). The file is read when the runner first asks
what the data is, before the model is built, so a model config takes the feature count
from ``${data.input_shape}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError
from pegboard_tabular.base import RawData, TabularDataModule
from pegboard_tabular.table_io import listing, read_table


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(item) for item in value]


class CsvDataModule(TabularDataModule):
    """Rows of a CSV (``.csv``, ``.tsv``) or Parquet (``.parquet``, ``.pq``) file.

    Rows whose target is missing are dropped (with a warning that counts them). Class
    names are the sorted distinct target values, as text.

    Args:
        path: The file; Parquet needs the ``parquet`` extra (pyarrow).
        target: The target column, or a list of columns (several values to regress).
        task: ``"classification"`` or ``"regression"``; ``None`` infers it from the
            target column.
        categorical: Feature columns to one-hot encode although they hold numbers
            (codes, zip codes); columns holding text are categorical anyway.
        drop: Columns that are not features (identifiers, leaks).
        max_categories: The most distinct training values a categorical column may have
            (a column of unique text is usually an identifier for ``drop``).
        **kwargs: See ``TabularDataModule`` (``batch_size``, ``val_fraction``...).
    """

    def __init__(
        self,
        path: str,
        target: str | list[str],
        task: str | None = None,
        categorical: list[str] | None = None,
        drop: Sequence[str] = (),
        max_categories: int = 1000,
        **kwargs: Any,
    ) -> None:
        super().__init__(task=task, **kwargs)
        self.path = Path(str(path)).expanduser()
        self.target_columns = _names(target)
        if not self.target_columns or len(set(self.target_columns)) != len(self.target_columns):
            raise ConfigError(
                f"data.target={target!r}: give one column name, or a list of distinct ones"
            )
        self.categorical = _names(categorical)
        self.drop = _names(drop)
        if max_categories < 1:
            raise ConfigError(f"data.max_categories={max_categories}: must be at least 1")
        self.max_categories = max_categories

    def read(self) -> RawData:
        """Read the file and sort its columns into target, features and dropped ones."""
        table = read_table(self.path)
        columns = list(table.columns)
        for key, names in (("target", self.target_columns), ("drop", self.drop)):
            absent = [name for name in names if name not in table.columns]
            if absent:
                raise ConfigError(
                    f"data.{key}={_shown(absent)} {_not_columns(absent)} of {table.name}; "
                    f"columns: {listing(columns)}"
                )
        dropped_targets = [name for name in self.target_columns if name in self.drop]
        if dropped_targets:
            raise ConfigError(f"data.drop lists the target {listing(dropped_targets)}")
        features = {
            name: cells
            for name, cells in table.columns.items()
            if name not in self.target_columns and name not in self.drop
        }
        strays = [name for name in self.categorical if name not in features]
        if strays:
            raise ConfigError(
                f"data.categorical names {_shown(strays)}, which "
                f"{_not_columns(strays, 'feature ')} of {table.name} (the target, dropped, or "
                f"absent); features: "
                f"{listing(list(features))}"
            )
        return RawData(
            features,
            [table.columns[name] for name in self.target_columns],
            tuple(self.target_columns),
            table.name,
            categorical=tuple(self.categorical),
            max_categories=self.max_categories,
        )


def _shown(names: list[str]) -> str:
    return repr(names[0]) if len(names) == 1 else f"[{', '.join(names)}]"


def _not_columns(names: list[str], kind: str = "") -> str:
    return f"is not a {kind}column" if len(names) == 1 else f"are not {kind}columns"


__all__ = ["CsvDataModule"]
