"""Runs started together, killed, or picked again: each keeps its own folder and its truth."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from launcher_helpers import TINY_RUN, pegboard_command


def test_eight_runs_started_together_write_eight_folders(working_packs, tmp_path: Path) -> None:
    wanted = tmp_path / "logs" / "train" / "runs" / "same-second"
    env = {**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs")}
    args = [*pegboard_command(), "train", *TINY_RUN, "test=false", "plots=false"]
    runs = [
        subprocess.Popen(
            [*args, f"seed={seed}", f"hydra.run.dir={wanted}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(8)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0] * 8, [err for _, err in outputs]
    folders = sorted(p for p in wanted.parent.iterdir() if p.name.startswith("same-second"))
    assert len(folders) == 8
    statuses = [json.loads((f / "status.json").read_text())["status"] for f in folders]
    assert statuses == ["completed"] * 8
    # Each folder holds its own run's config: no run wrote into another's folder.
    seeds = [yaml_seed((f / "config.yaml").read_text()) for f in folders]
    assert sorted(seeds) == list(range(8))


def yaml_seed(text: str) -> int:
    from omegaconf import OmegaConf

    return int(OmegaConf.create(text).seed)
