"""A pack written by ``pegboard new-pack``, installed from its wheel: listed, checked, trains.

Run by the nox session ``scaffold`` after it installs the pack's wheel beside the vision
packs; skipped where that pack is not installed.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import distribution
from pathlib import Path

import pytest
from scaffold_helpers import pegboard, require_installed

PACK = os.environ.get("SCAFFOLD_PACK", "acme-scaffold")
MODULE = PACK.replace("-", "_")
QUIET = ("trainer.max_epochs=1", "trainer.enable_progress_bar=false", "~callbacks.progress_bar")

require_installed(PACK)


def test_installed_from_a_wheel_not_a_checkout() -> None:
    files = {str(path) for path in distribution(PACK).files or ()}
    assert f"{MODULE}/conf/model/{MODULE}_net.yaml" in files
    assert f"{MODULE}/conf/data/{MODULE}_blobs.yaml" in files


def test_listed_by_pegboard_plugins(tmp_path: Path) -> None:
    result = pegboard("plugins", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    packs = {pack["name"]: pack for pack in data["packs"]}
    assert packs[PACK]["options"] == {"data": [f"{MODULE}_blobs"], "model": [f"{MODULE}_net"]}
    assert {"pegboard-models-vision", "pegboard-data-vision"} <= set(packs)
    assert data["collisions"] == [] and data["problems"] == []


@pytest.mark.parametrize(
    ("model", "data"), [(f"{MODULE}_net", "digits"), ("mlp", f"{MODULE}_blobs")]
)
def test_trains_through_pegboard(tmp_path: Path, model: str, data: str) -> None:
    result = pegboard("train", f"model={model}", f"data={data}", *QUIET, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Test accuracy:" in result.stdout


def test_passes_pegboard_plugins_check(tmp_path: Path) -> None:
    result = pegboard("plugins", "check", PACK, "--json", cwd=tmp_path)
    rows = json.loads(result.stdout)
    assert result.returncode == 0, rows
    assert {row["check"] for row in rows} >= {"manifest", f"model={MODULE}_net"}
    assert all(row["status"] == "pass" for row in rows), rows
