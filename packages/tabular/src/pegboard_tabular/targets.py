"""Targets: the task a target column implies, its classes, and how targets are encoded.

The task, when the config leaves ``task: null`` (``infer_task``):

* a target column holding text or booleans (any cell that is not a number) is
  **classification**;
* a column of whole numbers with at most ``MAX_INFERRED_CLASSES`` (10) distinct values is
  **classification**;
* anything else, and every multi-column target, is **regression**.

``data.task`` overrides the inference either way (``data.task=regression`` for a rating
from 1 to 5). Classes are the distinct target values of the whole file as text, sorted:
numerically when every value is a number (``"2"`` before ``"10"``; ``1`` and ``1.0`` are
one class, ``"1"``), else as text. Regression targets keep their units; the training
split's mean and standard deviation are given to the model (``Values.mean``/``std``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pegboard.errors import ConfigError
from pegboard.supervision import CLASSIFICATION, REGRESSION, Classes, TargetSpec, Values
from pegboard_tabular.cells import Column, category, numbers
from pegboard_tabular.table_io import listing

#: The most distinct whole numbers a target may hold to be taken for classes.
MAX_INFERRED_CLASSES = 10


def infer_task(columns: Sequence[Column]) -> str:
    """The task the target columns imply (see the module docstring).

    Args:
        columns: The target columns, rows with a missing target already dropped.
    """
    if len(columns) != 1:
        return REGRESSION
    floats, bad = numbers(columns[0])
    if bad is not None:
        return CLASSIFICATION
    present = floats[~np.isnan(floats)]
    whole = bool(np.all(present == np.floor(present)))
    return (
        CLASSIFICATION if whole and len(np.unique(present)) <= MAX_INFERRED_CLASSES else REGRESSION
    )


def _keys(column: Column, numeric: bool) -> list[str | None]:
    """Each cell's class: canonical number text when ``numeric`` (``1.0`` -> ``"1"``)."""
    if numeric:
        return [category(value) for value in numbers(column)[0].tolist()]
    return [category(cell) for cell in column]


@dataclass(frozen=True)
class TargetEncoding:
    """How the target columns become a model's targets.

    Args:
        task: ``"classification"`` or ``"regression"``.
        names: The target columns.
        classes: Class names, indexed by class (classification).
        numeric_classes: Classes are numbers: cells are matched by value, not text.
        mean: Training mean of each target (regression), once known.
        std: Training standard deviation of each target (regression), once known.
    """

    task: str
    names: tuple[str, ...]
    classes: tuple[str, ...] | None = None
    numeric_classes: bool = False
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    @classmethod
    def fit(
        cls,
        columns: Sequence[Column],
        names: Sequence[str],
        task: str | None,
        source: str,
        classes: Sequence[str] | None = None,
    ) -> TargetEncoding:
        """The task and classes of the target columns (every row of the file).

        Args:
            columns: The target columns, rows with a missing target already dropped.
            names: Their names.
            task: The task the config sets, or ``None`` to infer it.
            source: The file, for messages.
            classes: Class names in a fixed order (bundled datasets); ``None`` takes the
                sorted distinct values.
        """
        task = task or infer_task(columns)
        names = tuple(names)
        if task == REGRESSION:
            encoding = cls(REGRESSION, names)
            encoding.encode(columns, source)  # refuses text now, with the column named
            return encoding
        if len(columns) != 1:
            raise ConfigError(
                f"data.task=classification takes one target column, not {len(columns)} "
                f"({listing(names)}); several columns are regression targets"
            )
        numeric = classes is None and numbers(columns[0])[1] is None
        if classes is None:
            distinct = {key for key in _keys(columns[0], numeric) if key is not None}
            classes = sorted(distinct, key=float if numeric else str)
        if len(classes) < 2:
            raise ConfigError(
                f"target column {names[0]!r} of {source} has {len(classes)} class "
                f"({listing(list(classes))}): classification needs 2 or more"
            )
        return cls(CLASSIFICATION, names, tuple(str(c) for c in classes), numeric)

    @property
    def spec(self) -> TargetSpec:
        """The targets as ``pegboard.supervision`` describes them."""
        if self.classes is not None:
            return Classes(len(self.classes), self.classes)
        return Values(len(self.names), self.names, self.mean, self.std)

    def encode(self, columns: Sequence[Column], source: str) -> np.ndarray:
        """Class indices ``(rows,)`` int64, or values ``(rows, targets)`` float32.

        Args:
            columns: The target columns (no missing cells).
            source: The file, for messages.

        Raises:
            ConfigError: A value is not one of the classes, or a regression target is text.
        """
        if self.classes is not None:
            index = {name: i for i, name in enumerate(self.classes)}
            keys = _keys(columns[0], self.numeric_classes)
            codes = [index.get(key, -1) if key is not None else -1 for key in keys]
            if -1 in codes:
                row = codes.index(-1)
                raise ConfigError(
                    f"{source} has target {self.names[0]}={columns[0][row]!r}, not one of "
                    f"the classes {listing(list(self.classes))}"
                )
            return np.asarray(codes, dtype=np.int64)
        values = []
        for name, column in zip(self.names, columns, strict=True):
            floats, bad = numbers(column)
            if bad is not None:
                raise ConfigError(
                    f"target column {name!r} of {source} holds text, such as {column[bad]!r}: "
                    "regression needs numbers; set data.task=classification"
                )
            values.append(floats)
        return np.stack(values, axis=1).astype(np.float32)

    def with_stats(self, train_targets: np.ndarray) -> TargetEncoding:
        """The encoding with the training targets' mean and std (regression; else itself).

        Args:
            train_targets: ``encode``'s output for the training rows.
        """
        if self.task != REGRESSION or len(train_targets) == 0:
            return self
        values = train_targets.astype(np.float64)
        mean, std = values.mean(axis=0), values.std(axis=0)
        std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        return replace(self, mean=tuple(mean.tolist()), std=tuple(std.tolist()))

    def to_dict(self) -> dict[str, Any]:
        """Plain Python for a checkpoint; ``class_names`` is the key pegboard's runner reads."""
        state: dict[str, Any] = {"task": self.task, "target_names": list(self.names)}
        if self.classes is not None:
            state.update(class_names=list(self.classes), numeric_classes=self.numeric_classes)
        if self.mean is not None and self.std is not None:
            state.update(target_mean=list(self.mean), target_std=list(self.std))
        return state

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> TargetEncoding:
        """The encoding ``to_dict`` saved.

        Args:
            state: What ``to_dict`` returned.

        Raises:
            ConfigError: ``state`` is not what ``to_dict`` writes.
        """
        try:
            task = str(state["task"])
            names = tuple(str(name) for name in state["target_names"])
            floats = {
                key: tuple(float(v) for v in state[key]) if state.get(key) is not None else None
                for key in ("target_mean", "target_std")
            }
            if task == CLASSIFICATION:
                classes = tuple(str(name) for name in state["class_names"])
                encoding = cls(task, names, classes, bool(state.get("numeric_classes")))
            elif task == REGRESSION:
                encoding = cls(
                    task, names, None, False, floats["target_mean"], floats["target_std"]
                )
            else:
                raise ValueError(f"unknown task {task!r}")
            encoding.spec  # noqa: B018 (validates the counts)
        except (KeyError, TypeError, ValueError) as error:
            raise ConfigError(f"the saved target encoding is malformed: {error!r}") from None
        return encoding


__all__ = ["MAX_INFERRED_CLASSES", "TargetEncoding", "infer_task"]
