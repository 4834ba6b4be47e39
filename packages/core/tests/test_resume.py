"""Continuing a run: its stored config, the resume line's overrides on top, its own folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard.runner.resume import continued_config, continued_folder
from pegboard.runner.run_search import find_run
from pegboard.runner.rundir import RunStatus, read_status

STORED = {
    "seed": 3,
    "trainer": {"max_epochs": 4},
    "paths": {"output_dir": "/old/runs/r1"},
    "callbacks": {"ckpt": {"_target_": "x.Checkpoint", "dirpath": "/old/runs/r1/checkpoints"}},
    "model": {"_target_": "pack.Net", "width": 8},
}


def test_the_stored_config_wins_and_the_resume_line_changes_only_what_it_names(tmp_path):
    overrides = ["ckpt_path=last", "run=r1", "trainer.max_epochs=6", "hydra.job.chdir=true"]
    config, changes = continued_config(STORED, overrides, tmp_path / "r1_resumed")
    assert config["seed"] == 3 and config["trainer"]["max_epochs"] == 6
    assert config["callbacks"]["ckpt"]["dirpath"] == str(tmp_path / "r1_resumed" / "checkpoints")
    assert changes == ["trainer.max_epochs: 4 -> 6"]


def test_keys_can_be_added_and_removed(tmp_path):
    config, changes = continued_config(
        STORED, ["+trainer.gradient_clip_val=1.0", "~model.width"], tmp_path
    )
    assert config["trainer"]["gradient_clip_val"] == 1.0 and "width" not in config["model"]
    assert "trainer.gradient_clip_val: '(absent)' -> 1.0" in changes


def test_swapping_a_group_is_refused_repeating_it_is_not(tmp_path):
    with pytest.raises(ConfigError, match="a continued run keeps its own model"):
        continued_config(STORED, ["model=other"], tmp_path, {"model": {"_target_": "pack.Other"}})
    config, changes = continued_config(
        STORED, ["model=net"], tmp_path, {"model": {"_target_": "pack.Net"}}
    )
    assert config["model"] == STORED["model"] and changes == []


@pytest.mark.parametrize(
    ("name", "folder"),
    [("r1", "r1_resumed"), ("r1_resumed", "r1_resumed"), ("r1_resumed_2", "r1_resumed")],
)
def test_a_continuation_is_named_after_the_run(name, folder):
    assert continued_folder(Path("/runs") / name) == Path("/runs") / folder


def _run(runs: Path, name: str, status: str, started: float) -> Path:
    folder = runs / name
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "last.ckpt").write_bytes(b"x")
    payload = {"status": status, "started": started, "pid": os.getpid(), "host": "elsewhere"}
    (folder / "status.json").write_text(json.dumps(payload))
    return folder


def test_last_without_run_never_picks_a_completed_run(tmp_path):
    runs = tmp_path / "runs"
    stopped = _run(runs, "a", "interrupted", 1.0)
    _run(runs, "b", "completed", 2.0)
    assert find_run(runs, None, unfinished=True) == stopped
    assert find_run(runs, None).name == "b"  # eval and predict: the newest run
    (stopped / "status.json").write_text(json.dumps({"status": "completed", "started": 1.0}))
    with pytest.raises(ConfigError, match=r"every run in .* completed; .* ckpt_path=last run=b"):
        find_run(runs, None, unfinished=True)


def test_a_run_whose_process_died_reads_as_crashed(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        status = RunStatus(tmp_path)
        recorded = json.loads((tmp_path / "status.json").read_text())
        recorded["pid"] = child.pid
        (tmp_path / "status.json").write_text(json.dumps(recorded))
        assert read_status(tmp_path)["status"] == "running"
    finally:
        child.kill()
        child.wait()
    time.sleep(0.1)
    assert read_status(tmp_path)["status"] == "crashed"
    assert read_status(tmp_path)["recorded"] == "running"
    status.completed({})
    assert read_status(tmp_path)["status"] == "completed"
