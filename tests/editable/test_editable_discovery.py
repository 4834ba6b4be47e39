"""With every package installed editable (PEP 660), discovery and training still work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def pegboard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("pegboard")
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PEGBOARD_LOG_DIR": str(cwd / "logs")},
    )


def test_editable_installs_are_discovered(tmp_path: Path) -> None:
    data = json.loads(pegboard("plugins", "--json", cwd=tmp_path).stdout)
    names = {pack["name"] for pack in data["packs"]}
    assert {"pegboard-models-vision", "pegboard-data-vision"} <= names
    assert data["problems"] == [] and data["collisions"] == []


def test_editable_install_trains(tmp_path: Path) -> None:
    result = pegboard(
        "train",
        "debug=fast_dev_run",
        "trainer.enable_progress_bar=false",
        "~callbacks.progress_bar",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Test accuracy: " in result.stdout
