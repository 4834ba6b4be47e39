"""``RawData``: what a table datamodule reads, before any fitting; rows without a target go."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from pegboard.errors import ConfigError
from pegboard_tabular.cells import Column, is_missing
from pegboard_tabular.table_io import listing

log = logging.getLogger(__name__)


@dataclass
class RawData:
    """What ``TabularDataModule.read`` returns: every row of a table, before any fitting.

    Args:
        features: Feature column name to its cells (lists as read, or float arrays).
        targets: The target columns, one or more.
        target_names: Their names.
        source: The table's name, for messages (a file name).
        task: The task the data fixes (a bundled dataset's), or ``None``: the config's
            ``task``, else inferred (``targets.infer_task``).
        classes: Class names in a fixed order, or ``None``: sorted distinct values.
        categorical: Feature columns one-hot encoded even when they hold numbers.
        max_categories: Refuse a categorical feature with more training categories.
    """

    features: Mapping[str, Column]
    targets: Sequence[Column]
    target_names: tuple[str, ...]
    source: str
    task: str | None = None
    classes: tuple[str, ...] | None = None
    categorical: tuple[str, ...] = ()
    max_categories: int | None = None


def _take(column: Column, rows: np.ndarray) -> Column:
    if isinstance(column, np.ndarray):
        return column[rows]
    return [column[i] for i in rows.tolist()]


def drop_unlabelled(raw: RawData) -> RawData:
    """``raw`` without the rows whose target is missing; a warning counts them.

    Args:
        raw: Every row of a table.

    Raises:
        ConfigError: No feature column, or no row with its target.
    """
    if not raw.features:
        raise ConfigError(
            f"{raw.source} has no feature columns besides the target {listing(raw.target_names)}"
        )
    missing = np.zeros(len(raw.targets[0]), dtype=bool)
    for column in raw.targets:
        missing |= np.fromiter(map(is_missing, column), dtype=bool, count=len(column))
    if missing.all():
        raise ConfigError(f"every row of {raw.source} lacks its target {listing(raw.target_names)}")
    if not missing.any():
        return raw
    log.warning(
        "Dropped %d of %d rows of %s whose target %s is missing",
        int(missing.sum()),
        len(missing),
        raw.source,
        ", ".join(raw.target_names),
    )
    keep = np.flatnonzero(~missing)
    return replace(
        raw,
        features={name: _take(column, keep) for name, column in raw.features.items()},
        targets=[_take(column, keep) for column in raw.targets],
    )


__all__ = ["RawData", "drop_unlabelled"]
