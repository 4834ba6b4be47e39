"""Fixtures: small tables in the real formats (helpers in ``tabular_tables``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tabular_tables import HOUSE_COLUMNS, houses_rows, write_csv


@pytest.fixture
def houses_csv(tmp_path: Path) -> Path:
    """``houses.csv``: 60 rows of ``houses_rows``."""
    return write_csv(tmp_path / "houses.csv", HOUSE_COLUMNS, houses_rows())
