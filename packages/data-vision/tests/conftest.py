"""Fixtures: a local HTTP server with range requests, standing in for dataset sites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pegboard.testing.http_server import RangeServer

PLUGIN = "pegboard_data_vision._plugin:plugin"


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str, list[tuple[str, str | None]]]]:
    """A folder served at ``http://127.0.0.1:<port>/``: (folder, base URL, request log)."""
    with RangeServer(tmp_path / "served") as server:
        yield server.root, server.url, server.requests
