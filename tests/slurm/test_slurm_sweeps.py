"""Sweeps and DDP through ``hydra/launcher=slurm`` on the test cluster, and submitit_local."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import (
    SLURM,
    TINY,
    ended,
    finish,
    job_log,
    only_sweep,
    pegboard_executable,
    status_of,
    submitit_jobs,
)


def _summary(sweep: Path) -> list[dict[str, str]]:
    with (sweep / "summary.csv").open() as file:
        return list(csv.DictReader(file))


def test_a_sweep_runs_one_slurm_job_per_value(cluster, pegboard, log_dir) -> None:
    out = finish(pegboard("train", "-m", *SLURM, *TINY, "debug=fast_dev_run", "seed=1,2"))
    sweep = only_sweep(log_dir)
    assert "Multirun summary" in out
    rows = _summary(sweep)
    assert [(row["job"], row["seed"], row["status"]) for row in rows] == [
        ("0", "1", "completed"),
        ("1", "2", "completed"),
    ]
    assert all(float(row["test/acc"]) >= 0 for row in rows)
    # Two array tasks of one SLURM job, each on the cluster's node, both completed there.
    jobs = submitit_jobs(sweep)
    assert len(jobs) == 2 and jobs[0].endswith("_0") and jobs[1].endswith("_1"), jobs
    for job_id in jobs:
        record = ended(job_id)
        assert record["JobState"] == "COMPLETED" and record["NodeList"] == cluster, record
        assert record["NumCPUs"] == "1", record
    for job in ("0", "1"):
        assert status_of(sweep / job) == "completed"
        assert json.loads((sweep / job / "metrics.json").read_text())["test/acc"] >= 0


def test_ddp_with_two_slurm_tasks_writes_one_run(cluster, pegboard, log_dir) -> None:
    overrides = [
        *SLURM,
        *TINY,
        "hydra.launcher.tasks_per_node=2",
        "trainer=ddp_cpu",
        "trainer.devices=2",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=4",
        "trainer.limit_val_batches=2",
    ]
    finish(pegboard("train", "-m", *overrides))
    sweep = only_sweep(log_dir)
    (job_id,) = submitit_jobs(sweep)
    record = ended(job_id)
    assert record["JobState"] == "COMPLETED" and record["NumTasks"] == "2", record
    # Both tasks ran pegboard, as ranks 0 and 1 of one gloo process group.
    logs = [job_log(sweep, job_id, task) for task in (0, 1)]
    assert all("Job completed successfully" in log for log in logs), logs
    # One run directory, written by rank 0 alone: one status, one metrics file, one set
    # of checkpoints, one summary row; no other folder and no per-rank pointer files.
    assert sorted(path.name for path in sweep.iterdir()) == [
        ".submitit",
        "0",
        "multirun.yaml",
        "summary.csv",
    ]
    run = sweep / "0"
    assert status_of(run) == "completed"
    assert sorted(path.name for path in (run / "checkpoints").iterdir()) == [
        "epoch_000.ckpt",
        "last.ckpt",
    ]
    assert len(_summary(sweep)) == 1 and _summary(sweep)[0]["status"] == "completed"
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"test/acc", "val/acc", "train/loss"} <= set(metrics)
    # Two ranks of one process group, each logging to the run's one train.log.
    train_log = (run / "train.log").read_text()
    for rank in (0, 1):
        assert f"GLOBAL_RANK: {rank}, MEMBER: {rank + 1}/2" in train_log, train_log
    # Rank 0 printed the run's end; rank 1 printed none of it.
    assert "Run directory:" in logs[0] and "Run directory:" not in logs[1]
    assert not list(log_dir.rglob(".pegboard-slurm-*"))


def test_submitit_local_runs_a_sweep_without_a_cluster(pegboard, log_dir) -> None:
    finish(
        pegboard(
            "train", "-m", "hydra/launcher=submitit_local", *TINY, "seed=1,2", "debug=fast_dev_run"
        )
    )
    sweep = only_sweep(log_dir)
    assert [(row["seed"], row["status"]) for row in _summary(sweep)] == [
        ("1", "completed"),
        ("2", "completed"),
    ]
    assert len(submitit_jobs(sweep)) == 2


def test_the_slurm_launcher_without_sbatch_is_one_line(tmp_path, log_dir) -> None:
    # PATH with the environment's own commands only: no sbatch, no srun.
    bin_dir = str(Path(sys.executable).parent)
    refused = subprocess.run(
        [pegboard_executable(), "train", "-m", *SLURM, *TINY, "seed=1,2"],
        cwd=tmp_path,
        env={**os.environ, "PATH": bin_dir, "PEGBOARD_LOG_DIR": str(log_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "pegboard: error: hydra/launcher=slurm submits jobs with sbatch and srun; sbatch and "
        "srun are not on PATH: run on a SLURM login node, or use hydra/launcher=submitit_local"
    ]
    assert not log_dir.exists()  # refused before any sweep folder
