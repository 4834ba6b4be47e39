"""Parallel multirun jobs (joblib launcher) run in worker processes that never ran the launcher."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import QUICK


def test_joblib_workers_record_the_packs_and_the_summary(run_pegboard, tmp_path: Path) -> None:
    result = run_pegboard(
        "train",
        "--multirun",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "model=mlp,lenet",
        "debug=fast_dev_run",
        *QUICK[1:],
    )
    assert result.returncode == 0, result.stderr
    (sweep,) = (tmp_path / "logs" / "train" / "multiruns").iterdir()
    for job in ("0", "1"):
        packs = json.loads((sweep / job / "packs.json").read_text())
        assert {"pegboard-models-vision", "pegboard-data-vision"} <= set(packs)
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert sorted(row["model"] for row in rows) == ["lenet", "mlp"]
    assert all(row["status"] == "completed" for row in rows)
