"""The fitted feature transform: table columns in, one float matrix out (pure numpy).

The rules, fitted on the training split only and applied unchanged to every split and to
the files given to ``pegboard predict``:

* Which cells are **missing**, which are **numbers**, and a cell's **category** text are
  ``pegboard_tabular.cells``'s rules (missing: empty, ``NA``, ``N/A``, ``NaN``, ``nan``,
  ``null``, ``None``, or a number that is NaN or infinite).
* A column is **numeric** when every cell that is not missing is a number (text that
  ``float`` parses counts; booleans do not); any other column is **categorical**, and
  so is every column the caller names categorical. Kinds are decided over every row of the
  training file: the split does not change them.
* Numeric columns are **standardized** with the training split's mean and standard
  deviation of the cells present (a constant column gets std 1). A missing cell takes the
  training split's **median**, and nothing else marks it: no indicator column is added.
* Categorical columns are **one-hot** encoded over the categories of the training split,
  sorted; a missing cell is the category ``<missing>`` (a column of its own when the
  training split has missing cells). A category the training split never saw, missing
  included, sets every column of that feature to zero.

Output columns are named after their feature: ``age`` for a number, ``color=red`` for a
category.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from pegboard.errors import ConfigError
from pegboard_tabular.cells import MISSING_CATEGORY, Column, category, numbers
from pegboard_tabular.table_io import listing


@dataclass(frozen=True)
class NumericColumn:
    """A standardized number column.

    Args:
        name: The column.
        mean: Training mean of the cells present.
        std: Training standard deviation (1 for a constant column).
        fill: Training median, put in for missing cells.
    """

    name: str
    mean: float
    std: float
    fill: float
    kind: ClassVar[str] = "numeric"

    @property
    def outputs(self) -> list[str]:
        """Names of the output columns: the column's own."""
        return [self.name]

    def apply(self, values: Column, source: str) -> np.ndarray:
        """``(rows, 1)`` standardized values; missing cells take ``fill``.

        Args:
            values: The column's cells.
            source: The file, for messages.
        """
        floats, bad = numbers(values)
        if bad is not None:
            raise ConfigError(
                f"column {self.name!r} held numbers in training, but {source} holds "
                f"{values[bad]!r} in it"
            )
        return self.scale(floats)

    def scale(self, floats: np.ndarray) -> np.ndarray:
        """``(rows, 1)`` standardized ``floats``, NaN taking ``fill`` (changes ``floats``).

        Args:
            floats: The column as float64, NaN where missing.
        """
        floats[np.isnan(floats)] = self.fill
        return ((floats - self.mean) / self.std).astype(np.float32)[:, None]


@dataclass(frozen=True)
class CategoricalColumn:
    """A one-hot encoded column.

    Args:
        name: The column.
        categories: The training split's categories, one output column each.
    """

    name: str
    categories: tuple[str, ...]
    kind: ClassVar[str] = "categorical"

    @property
    def outputs(self) -> list[str]:
        """Names of the output columns: ``name=category``."""
        return [f"{self.name}={value}" for value in self.categories]

    def apply(self, values: Column, source: str) -> np.ndarray:
        """``(rows, categories)`` one-hot rows; all zeros for a category not seen in training.

        Args:
            values: The column's cells.
            source: The file, for messages (unused: every cell has a category).
        """
        index = {value: i for i, value in enumerate(self.categories)}
        codes = np.array(
            [index.get(MISSING_CATEGORY if c is None else c, -1) for c in map(category, values)],
            dtype=np.int64,
        )
        out = np.zeros((len(codes), len(self.categories)), dtype=np.float32)
        rows = np.flatnonzero(codes >= 0)
        out[rows, codes[rows]] = 1.0
        return out


FeatureColumn = NumericColumn | CategoricalColumn


def _fit_numeric(name: str, train: np.ndarray, source: str) -> NumericColumn:
    present = train[~np.isnan(train)]
    if present.size == 0:  # missing in every training row: every row becomes 0
        return NumericColumn(name, 0.0, 1.0, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(present.mean()), float(present.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise ConfigError(f"column {name!r} of {source} holds numbers too large to standardize")
    # A constant column (up to rounding) stays constant rather than dividing by ~0.
    if std <= 1e-12 * max(1.0, abs(mean)):
        std = 1.0
    return NumericColumn(name, mean, std, float(np.median(present)))


def _fit_categorical(
    name: str, train: list[str | None], max_categories: int | None, source: str
) -> CategoricalColumn:
    seen = {value for value in train if value is not None}
    if max_categories is not None and len(seen) > max_categories:
        raise ConfigError(
            f"column {name!r} of {source} has {len(seen)} distinct values in the training "
            f"split, more than data.max_categories={max_categories}: an identifier? list it "
            "in data.drop, or raise data.max_categories"
        )
    categories = sorted(seen) + ([MISSING_CATEGORY] if None in train else [])
    return CategoricalColumn(name, tuple(categories))


class FeatureTransform:
    """The fitted transform of a table's feature columns (see the module docstring).

    Args:
        columns: One fitted column each, in output order.
    """

    def __init__(self, columns: Sequence[FeatureColumn]) -> None:
        self.columns = list(columns)

    @property
    def feature_names(self) -> list[str]:
        """The name of every output column, in order."""
        return [name for column in self.columns for name in column.outputs]

    @property
    def width(self) -> int:
        """Number of output columns: the model's input size."""
        return len(self.feature_names)

    @classmethod
    def fit_transform(
        cls,
        table: Mapping[str, Column],
        train: np.ndarray,
        categorical: Collection[str] = (),
        max_categories: int | None = None,
        source: str = "the data",
    ) -> tuple[FeatureTransform, np.ndarray]:
        """Fit on the rows ``train`` of ``table`` and transform every row.

        Args:
            table: Feature column name to its cells (every row of the training file).
            train: Indices of the training rows: the only ones whose values are fitted.
            categorical: Columns one-hot encoded even when they hold numbers.
            max_categories: Refuse a categorical column with more training categories.
            source: The file, for messages.

        Returns:
            The transform and the ``(rows, width)`` float32 matrix of every row.
        """
        columns: list[FeatureColumn] = []
        parts: list[np.ndarray] = []
        for name, values in table.items():
            floats, bad = numbers(values) if name not in categorical else (None, 0)
            if floats is not None and bad is None:
                if np.isnan(floats).all():
                    raise _all_missing(name, source)
                numeric = _fit_numeric(name, floats[train], source)
                columns.append(numeric)
                parts.append(numeric.scale(floats))
                continue
            texts = [category(cell) for cell in values]
            if all(text is None for text in texts):
                raise _all_missing(name, source)
            train_texts = [texts[i] for i in train.tolist()]
            column = _fit_categorical(name, train_texts, max_categories, source)
            columns.append(column)
            parts.append(column.apply(texts, source))
        return cls(columns), _stack(parts, _rows(table))

    def transform(self, table: Mapping[str, Column], source: str) -> np.ndarray:
        """The ``(rows, width)`` float32 matrix of ``table``, transformed as fitted.

        Args:
            table: Column name to cells; it must hold every fitted column (others are
                ignored).
            source: The file, for messages.

        Raises:
            ConfigError: A fitted column is absent, or a number column holds text.
        """
        absent = [column.name for column in self.columns if column.name not in table]
        if absent:
            raise ConfigError(
                f"{source} lacks the feature column{'s' if len(absent) > 1 else ''} "
                f"{listing(absent)}; the model was trained on {listing(self.names)}"
            )
        return _stack([c.apply(table[c.name], source) for c in self.columns], _rows(table))

    @property
    def names(self) -> list[str]:
        """The input columns the transform reads, in order."""
        return [column.name for column in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """The fitted values as plain Python, for a checkpoint (``weights_only`` loads it)."""
        return {
            "columns": [
                {"name": c.name, "kind": c.kind, "mean": c.mean, "std": c.std, "fill": c.fill}
                if isinstance(c, NumericColumn)
                else {"name": c.name, "kind": c.kind, "categories": list(c.categories)}
                for c in self.columns
            ]
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> FeatureTransform:
        """The transform that ``to_dict`` saved.

        Args:
            state: What ``to_dict`` returned.

        Raises:
            ConfigError: ``state`` is not what ``to_dict`` writes.
        """
        try:
            columns: list[FeatureColumn] = []
            for entry in state["columns"]:
                if entry["kind"] == NumericColumn.kind:
                    values = [float(entry[key]) for key in ("mean", "std", "fill")]
                    columns.append(NumericColumn(str(entry["name"]), *values))
                elif entry["kind"] == CategoricalColumn.kind:
                    categories = tuple(str(value) for value in entry["categories"])
                    columns.append(CategoricalColumn(str(entry["name"]), categories))
                else:
                    raise ValueError(f"unknown column kind {entry['kind']!r}")
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"the saved feature transform is malformed: {error!r}") from None
        return cls(columns)


def _all_missing(name: str, source: str) -> ConfigError:
    return ConfigError(
        f"column {name!r} of {source} has no values (every cell is missing); list it in data.drop"
    )


def _rows(table: Mapping[str, Column]) -> int:
    return len(next(iter(table.values()), ()))


def _stack(parts: list[np.ndarray], rows: int) -> np.ndarray:
    if not parts:
        return np.zeros((rows, 0), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)


__all__ = [
    "CategoricalColumn",
    "FeatureColumn",
    "FeatureTransform",
    "NumericColumn",
]
