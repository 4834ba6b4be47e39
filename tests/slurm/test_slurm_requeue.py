"""Preemption on the test cluster: a signalled job is requeued and resumes; a cancelled one is not.

``scancel --signal=TERM JOB`` sends SIGTERM to the job's processes and leaves the job
RUNNING, as SLURM does when it preempts a job or warns it before its time limit
(``--signal=TERM@SECONDS``). pegboard saves ``last.ckpt``, marks the run interrupted and
asks SLURM to requeue the job (``requeue: true``, pegboard.runner.requeue). SLURM holds a
requeued job about two minutes before it may start again; the test moves its start to
now (``scontrol update StartTime=now``) instead of waiting.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import (
    SLURM,
    TINY,
    ended,
    finish,
    job_log,
    only_sweep,
    scontrol_job,
    status_of,
    submitit_jobs,
    wait_for,
)

#: 200 steps of at least 30 ms each: long enough to be interrupted on a fast machine,
#: short enough to finish after; a project callback (the working directory is importable)
#: sleeps after each step, so that the job lasts as long on any machine.
LONG = [
    "~callbacks.early_stopping",
    "data.batch_size=16",
    "trainer.max_epochs=20",
    "trainer.limit_train_batches=10",
    "trainer.limit_val_batches=2",
    "+callbacks.slow={_target_:slow_steps.SlowSteps,seconds:0.03}",
]
STEPS = 20 * 10
SLOW_STEPS = """
import time

import pytorch_lightning as pl


class SlowSteps(pl.Callback):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, *args: object) -> None:
        time.sleep(self.seconds)
"""


@pytest.fixture(autouse=True)
def slow_steps(tmp_path: Path) -> None:
    """``slow_steps.py`` in the working directory of the test's runs (and of its jobs)."""
    (tmp_path / "slow_steps.py").write_text(SLOW_STEPS)


def _started_training(log_dir: Path) -> tuple[Path, Path, str]:
    """The sweep, the job's run folder and its SLURM id, once the job saved a checkpoint."""
    wait_for(lambda: list((log_dir / "train" / "multiruns").glob("*")), "the sweep folder")
    sweep = only_sweep(log_dir)
    run = sweep / "0"
    wait_for((run / "checkpoints" / "last.ckpt").is_file, "the job's first last.ckpt")
    (job_id,) = submitit_jobs(sweep)
    return sweep, run, job_id


def _global_step(checkpoint: Path) -> int:
    import torch

    return int(torch.load(checkpoint, map_location="cpu", weights_only=True)["global_step"])


def test_a_preempted_job_is_requeued_and_resumes_in_its_run(cluster, pegboard, log_dir) -> None:
    submitter = pegboard("train", "-m", *SLURM, *TINY, *LONG)
    sweep, run, job_id = _started_training(log_dir)
    config = (run / "config.yaml").read_text()
    subprocess.run(["scancel", "--signal=TERM", job_id], check=True)

    # The first start saves last.ckpt mid-training, is marked interrupted, and is requeued.
    def requeued() -> bool:
        record = scontrol_job(job_id)
        return record.get("Restarts") == "1" and record.get("JobState") == "PENDING"

    wait_for(requeued, f"SLURM job {job_id} to be requeued", timeout=60)
    first = job_log(sweep, job_id)
    assert "Requeued: SLURM job" in first and "was signalled, not cancelled" in first, first
    assert "interrupted by SIGTERM" in first and status_of(run) == "interrupted"
    stopped_at = _global_step(run / "checkpoints" / "last.ckpt")
    assert 0 < stopped_at < STEPS
    subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], check=True)

    out = finish(submitter)
    assert "Multirun summary" in out
    record = ended(job_id)
    assert record["JobState"] == "COMPLETED" and record["Restarts"] == "1", record
    # The second start resumed from the first's last.ckpt, in the same folder, same config.
    log = job_log(sweep, job_id)
    assert f"SLURM restart 1 of job {job_id}: resuming from {run}/checkpoints/last.ckpt" in log
    assert (run / "config.yaml").read_text() == config
    hparams = yaml.safe_load((run / "csv" / "hparams.yaml").read_text())
    assert hparams["resumed_from"] == str(run / "checkpoints" / "last.ckpt")
    assert status_of(run) == "completed"
    # Not a fresh start: the second start logged no step before the one the first
    # stopped at (its CSV logger wrote metrics.csv anew), and trained to the end.
    with (run / "csv" / "metrics.csv").open() as file:
        steps = [int(row["step"]) for row in csv.DictReader(file)]
    assert min(steps) > stopped_at and max(steps) == STEPS, steps
    assert sorted(path.name for path in sweep.iterdir() if not path.name.startswith(".")) == [
        "0",
        "multirun.yaml",
        "summary.csv",
    ]


def test_a_cancelled_job_is_not_requeued(cluster, pegboard, log_dir) -> None:
    submitter = pegboard("train", "-m", *SLURM, *TINY, *LONG)
    try:
        sweep, run, job_id = _started_training(log_dir)
        subprocess.run(["scancel", job_id], check=True)
        record = ended(job_id)
        assert record["JobState"] == "CANCELLED" and record["Restarts"] == "0", record
        log = job_log(sweep, job_id)
        assert f"Not requeued: SLURM job {job_id} is COMPLETING (cancelled or ended)." in log, log
        assert status_of(run) == "interrupted"
    finally:
        # Without SLURM accounting (sacct), submitit cannot tell that a job without a
        # result has ended, and would wait: the submitting command is stopped here.
        submitter.terminate()
        submitter.communicate(timeout=60)
