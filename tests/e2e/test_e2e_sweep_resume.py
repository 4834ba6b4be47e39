"""An Optuna sweep stopped by SIGTERM continues when the same command runs again."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import pegboard_executable
from omegaconf import OmegaConf

SWEEP = [
    "train",
    "hparams_search=digits_optuna",
    "hydra.sweeper.n_trials=4",
    "model=mlp",
    "data=digits",
    "trainer.max_epochs=1",
    "~callbacks.progress_bar",
    "trainer.enable_progress_bar=false",
]


def _status(job: Path) -> str | None:
    try:
        return str(json.loads((job / "status.json").read_text())["status"])
    except (OSError, ValueError, KeyError):
        return None


def _interrupt_after_two_trials(root: Path, env: dict[str, str], cwd: Path) -> Path:
    """Start the sweep, SIGTERM it while its third trial runs, return its folder."""
    process = subprocess.Popen(
        [pegboard_executable(), *SWEEP],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            jobs = [p for p in root.glob("*/*") if p.name.isdigit()]
            done = [job for job in jobs if _status(job) == "completed"]
            if len(done) >= 2 and any(_status(job) == "running" for job in jobs):
                process.send_signal(signal.SIGTERM)
                break
            time.sleep(0.05)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, stderr
    assert "rerun the sweep's command to continue an Optuna sweep" in stdout
    (sweep,) = root.iterdir()
    return sweep


def test_an_interrupted_optuna_sweep_continues_where_it_stopped(
    run_pegboard, tmp_path: Path
) -> None:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="pegboard-core[optuna]")
    import optuna

    from pegboard.runner.optuna_resume import rdb_storage_problem

    problem = rdb_storage_problem()
    if problem:
        pytest.skip(f"the study cannot be stored: {problem}")
    root = tmp_path / "logs" / "train" / "multiruns"
    env = {**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs")}
    sweep = _interrupt_after_two_trials(root, env, tmp_path)
    first_jobs = sorted(p.name for p in sweep.iterdir() if p.name.isdigit())

    result = run_pegboard(*SWEEP)
    assert result.returncode == 0, result.stderr
    assert list(root.iterdir()) == [sweep]  # the same folder, no new one
    assert f"Continuing sweep {sweep}: 2 of 4 trials done" in result.stdout
    assert json.loads((sweep / "status.json").read_text())["status"] == "completed"

    study = optuna.load_study(study_name="digits_optuna", storage=f"sqlite:///{sweep}/optuna.db")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    (interrupted,) = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(complete) == 4
    # Only the interrupted trial's parameters are trained again; no other point twice.
    points = [tuple(sorted(t.params.items())) for t in complete]
    assert len(set(points)) == 4 and tuple(sorted(interrupted.params.items())) in points

    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    jobs = sorted((p.name for p in sweep.iterdir() if p.name.isdigit()), key=int)
    assert [row["job"] for row in rows] == jobs == [str(n) for n in range(len(first_jobs) + 2)]
    statuses = {row["job"]: row["status"] for row in rows}
    assert list(statuses.values()).count("completed") == 4
    assert statuses[first_jobs[-1]] == "interrupted"
    swept = {float(row["model.optimizer.lr"]) for row in rows if row["status"] == "completed"}
    assert swept == {t.params["model.optimizer.lr"] for t in complete}
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    assert best.best_value == max(t.value for t in complete)  # over both attempts
