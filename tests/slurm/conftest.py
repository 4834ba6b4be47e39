"""SLURM tests run the installed ``pegboard`` command against a real one-node cluster.

``nox -s slurm`` starts the cluster first (ci/slurm/start-cluster.sh); these tests fail,
never skip, when there is none. Jobs are tiny: one CPU, digits, an MLP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

#: hydra/launcher=slurm sized for the test cluster (2 CPUs, no GPU, no accounting).
SLURM = [
    "hydra/launcher=slurm",
    "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1",
    "hydra.launcher.gpus_per_node=null",
    "hydra.launcher.timeout_min=10",
]
#: A small, quiet job: no progress bar, no plots.
TINY = [
    "model=mlp",
    "data=digits",
    "plots=false",
    "~callbacks.progress_bar",
    "trainer.enable_progress_bar=false",
]


def pegboard_executable() -> str:
    """The ``pegboard`` script of the environment running the tests."""
    script = Path(sys.executable).with_name("pegboard")
    found = str(script) if script.exists() else shutil.which("pegboard")
    if not found:
        pytest.fail("the pegboard command is not installed in this environment")
    return found


@pytest.fixture(scope="session")
def cluster() -> str:
    """The node of the running test cluster; fails (never skips) when there is none."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        pytest.fail(
            "no SLURM client commands (sinfo, sbatch) on PATH: start the test cluster with "
            "ci/slurm/start-cluster.sh (nox -s slurm does)"
        )
    shown = subprocess.run(
        ["sinfo", "-h", "-N", "-o", "%N %T"], capture_output=True, text=True, check=False
    )
    nodes = dict(line.split() for line in shown.stdout.splitlines() if len(line.split()) == 2)
    if not any(state in ("idle", "mixed", "allocated") for state in nodes.values()):
        pytest.fail(f"no usable SLURM node: sinfo says {shown.stdout or shown.stderr!r}")
    return next(iter(nodes))


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """``PEGBOARD_LOG_DIR`` of the test's runs (the jobs inherit it through sbatch)."""
    return tmp_path / "logs"


@pytest.fixture
def pegboard(tmp_path: Path, log_dir: Path) -> Callable[..., subprocess.Popen[str]]:
    """Start ``pegboard ARGS...`` in ``tmp_path``; the caller waits for it."""

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [pegboard_executable(), *args],
            cwd=tmp_path,
            env={**os.environ, "PEGBOARD_LOG_DIR": str(log_dir)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    return start


def finish(process: subprocess.Popen[str], timeout: float = 240) -> str:
    """Wait for ``process`` to end; its output. Fails with the output when it fails."""
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        pytest.fail(f"pegboard did not end within {timeout} s:\n{out}")
    assert process.returncode == 0, out
    return out


def only_sweep(log_dir: Path) -> Path:
    """The one multirun folder under ``log_dir``."""
    sweeps = list((log_dir / "train" / "multiruns").iterdir())
    assert len(sweeps) == 1, sweeps
    return sweeps[0]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 120) -> object:
    """Poll ``condition`` every 0.5 s until it is truthy; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def submitit_jobs(sweep: Path) -> list[str]:
    """SLURM ids of the sweep's jobs (``<array>_<task>``) that have started, from submitit's logs.

    ``.submitit/<array>/`` holds the batch script; ``.submitit/<array>_<task>/`` each job's
    pickles and logs.
    """
    folder = sweep / ".submitit"
    if not folder.is_dir():
        return []
    return sorted(
        path.name for path in folder.iterdir() if (path / f"{path.name}_0_log.out").is_file()
    )


def job_log(sweep: Path, job_id: str, task: int = 0) -> str:
    """What task ``task`` of a job printed (submitit appends every start of the job)."""
    path = sweep / ".submitit" / job_id / f"{job_id}_{task}_log.out"
    return path.read_text() if path.is_file() else ""


def scontrol_job(job_id: str) -> dict[str, str]:
    """``scontrol show job`` as a dict (the cluster keeps finished jobs for 10 minutes)."""
    shown = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, check=False
    )
    return dict(field.split("=", 1) for field in shown.stdout.split() if "=" in field)


def status_of(run_dir: Path) -> str | None:
    """The status a run's ``status.json`` records, or ``None`` before there is one."""
    try:
        return str(json.loads((run_dir / "status.json").read_text())["status"])
    except (OSError, ValueError, KeyError):
        return None


def ended(job_id: str, timeout: float = 60) -> dict[str, str]:
    """``scontrol show job`` once the job has ended (its processes are gone after its result)."""
    wait_for(
        lambda: scontrol_job(job_id).get("JobState") not in (None, "RUNNING", "COMPLETING"),
        f"SLURM job {job_id} to end",
        timeout,
    )
    return scontrol_job(job_id)
