"""What a cell of a table is: missing, a number, or a category's text.

The rules that ``preprocess`` (features) and ``targets`` (targets) share:

* A cell is **missing** when it is ``None``, a number that is NaN or infinite, or text
  that, stripped of surrounding spaces, is one of ``MISSING_MARKERS``: the empty string,
  ``NA``, ``N/A``, ``NaN``, ``nan``, ``null``, ``None``.
* A cell is a **number** when it is an int or a float (booleans are not numbers) or text
  that Python's ``float`` parses; a number parsed as NaN or infinity is missing.
* A cell's **category** is its text stripped of surrounding spaces; a number that is not
  text is written ``3`` when whole, else as Python writes the float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Text read as a missing cell (after stripping spaces).
MISSING_MARKERS = frozenset({"", "NA", "N/A", "NaN", "nan", "null", "None"})
#: The category of a missing cell in a categorical column.
MISSING_CATEGORY = "<missing>"

#: A column: a list of cells as read, or a numeric numpy array (NaN for missing).
Column = Sequence[Any] | np.ndarray


def is_missing(cell: Any) -> bool:
    """Whether a cell counts as missing (see the module docstring).

    Args:
        cell: One cell as read.
    """
    if cell is None:
        return True
    if isinstance(cell, float | np.floating):
        return not math.isfinite(cell)
    return isinstance(cell, str) and cell.strip() in MISSING_MARKERS


def numbers(values: Column) -> tuple[np.ndarray, int | None]:
    """The column as float64, NaN where missing, and the first cell that is not a number.

    Args:
        values: The column.

    Returns:
        ``(floats, None)`` for a numeric column; ``(partial, index)`` otherwise, where
        ``index`` is the position of the first cell that is neither missing nor a number.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        floats = values.astype(np.float64)
        floats[~np.isfinite(floats)] = np.nan
        return floats, None
    if len(values):
        # In one pass: numpy parses text as Python's float does (None becomes "None", a
        # marker; True becomes "True", which fails and leaves it to the loop below).
        text = np.char.strip(np.asarray(values, dtype=str))
        try:
            parsed = np.where(np.isin(text, list(MISSING_MARKERS)), "nan", text).astype(float)
        except ValueError:
            pass  # a cell is not a number: the loop below finds which
        else:
            parsed[~np.isfinite(parsed)] = np.nan
            return parsed, None
    floats = np.full(len(values), np.nan)
    for i, cell in enumerate(values):
        if is_missing(cell):
            continue
        if isinstance(cell, bool | np.bool_):
            return floats, i
        try:
            value = float(cell)
        except (TypeError, ValueError):
            return floats, i
        floats[i] = value if math.isfinite(value) else np.nan
    return floats, None


def category(cell: Any) -> str | None:
    """A cell's category: its text, or ``None`` when it is missing.

    Args:
        cell: One cell as read.
    """
    if is_missing(cell):
        return None
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool | np.bool_):
        return str(bool(cell))
    if isinstance(cell, int | float | np.integer | np.floating):
        return str(int(cell)) if float(cell).is_integer() else repr(float(cell))
    return str(cell)


__all__ = ["MISSING_CATEGORY", "MISSING_MARKERS", "Column", "category", "is_missing", "numbers"]
