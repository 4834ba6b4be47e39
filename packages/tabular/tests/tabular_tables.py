"""Small tables in the real formats, for the tests: a CSV of houses with text and missing cells.

A module of its own, not conftest: ``from conftest import`` finds whichever conftest was
imported first when several packages' tests run in one pytest session.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PLUGIN = "pegboard_tabular._plugin:plugin"

#: Columns of ``houses_rows``: an identifier, two numbers, a text category, the target.
HOUSE_COLUMNS = ["id", "size", "rooms", "color", "label"]
COLORS = ["red", "green", "blue"]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """Write a CSV the way a spreadsheet would: header, then one line per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def houses_rows(count: int = 60) -> list[list[str]]:
    """Rows of a house table: some sizes and colors missing, label 'cheap' or 'dear'.

    Row 0 is the only ``purple`` house, so whether that category is a feature tells
    which split row 0 fell into.
    """
    rows = []
    for i in range(count):
        size = "" if i % 7 == 3 else f"{50 + (i * 37) % 90}.5"
        color = "NA" if i % 11 == 5 else COLORS[i % 3]
        if i == 0:
            color = "purple"
        label = "dear" if i % 2 else "cheap"
        rows.append([f"h{i:03d}", size, str(1 + i % 5), color, label])
    return rows
