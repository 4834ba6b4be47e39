"""SLURM: requeue a job that SIGTERM stopped, and resume it in its own run folder.

SLURM sends SIGTERM to a job's processes when it preempts the job, on
``scancel --signal=TERM``, and ahead of the time limit when the job asks for it
(``--signal=TERM@120``). Neither library underneath pegboard requeues the job then:
submitit (``hydra/launcher=slurm``) logs SIGTERM and carries on ("Bypassing signal
SIGTERM"); it requeues only on its own signal (SIGUSR2, ``signal_delay_s`` before the
time limit). Lightning's ``SLURMEnvironment(auto_requeue=True)`` requeues only on
SIGUSR1, into an ``hpc_ckpt_N.ckpt``, and bypasses SIGTERM as well. On SIGTERM Lightning
stops ``fit`` after the current batch; pegboard saves ``last.ckpt`` and marks the run
``interrupted`` (``SigtermCheckpoint``, ``run_in_directory``).

Then global rank 0 of a job submitted through ``hydra/launcher=slurm`` asks SLURM to
requeue it (``scontrol requeue``), when SLURM still counts the job ``RUNNING``: a signal
was sent and nothing more. SLURM (22.05) requeues a cancelled job too if asked, so a
plain ``scancel JOBID``, whose job is already ``COMPLETING`` when its processes get
SIGTERM, is left cancelled. The requeued job replays submitit's submission: the same
overrides, the same job folder. There ``SLURM_RESTART_COUNT`` is 1 or more, and
``pegboard train`` resumes from ``<run>/checkpoints/last.ckpt`` with the config stored
in it (the run's ``config.yaml``), in the same folder: ``status.json`` says ``running``
again, then ``completed``. ``requeue: false`` in the train config turns both halves off.

Only jobs of submitit's SLURM executor: elsewhere (an ``sbatch`` script of one's own) a
restart composes a new run folder and would start over, so such a job is not requeued.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pegboard.errors import ConfigError
from pegboard.runner.signals import EXIT_SIGTERM

#: The Hydra launcher class behind ``hydra/launcher=slurm`` (and ``submitit_slurm``).
SLURM_LAUNCHER = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
#: Commands that launcher runs on the submitting machine: sbatch submits, srun is checked.
SLURM_COMMANDS = ("sbatch", "srun")


@dataclass(frozen=True)
class Decision:
    """Whether to requeue a job after SIGTERM, and why.

    Args:
        requeue: Ask SLURM to requeue the job.
        reason: Why (or why not), for the job's log.
    """

    requeue: bool
    reason: str


def submitit_job_id(environ: Mapping[str, str] | None = None) -> str | None:
    """The SLURM job id when this process runs a job of submitit's SLURM executor.

    Args:
        environ: The environment to read; ``os.environ`` by default.
    """
    env = os.environ if environ is None else environ
    if env.get("SUBMITIT_EXECUTOR") != "slurm":
        return None
    return env.get("SLURM_JOB_ID") or None


def restart_count(environ: Mapping[str, str] | None = None) -> int:
    """How many times SLURM restarted this job (``SLURM_RESTART_COUNT``; 0 at first).

    Args:
        environ: The environment to read; ``os.environ`` by default.
    """
    text = (os.environ if environ is None else environ).get("SLURM_RESTART_COUNT", "")
    return int(text) if text.strip().isdigit() else 0


def decide(enabled: bool, job_id: str | None, rank: int, state: str | None) -> Decision:
    """Whether a job that SIGTERM stopped should be requeued.

    Args:
        enabled: The train config's ``requeue``.
        job_id: ``submitit_job_id()``: ``None`` outside a job of ``hydra/launcher=slurm``.
        rank: This process's global rank; only rank 0 asks.
        state: SLURM's ``JobState`` for the job now (``None`` when unknown).
    """
    if not enabled:
        return Decision(False, "requeue=false")
    if job_id is None:
        return Decision(False, "not a job of hydra/launcher=slurm")
    if rank != 0:
        return Decision(False, f"rank {rank}: rank 0 requeues the job")
    if state != "RUNNING":
        shown = state or "in a state scontrol did not tell"
        return Decision(False, f"SLURM job {job_id} is {shown} (cancelled or ended)")
    return Decision(True, f"SLURM job {job_id} was signalled, not cancelled")


def job_state(job_id: str) -> str | None:
    """SLURM's ``JobState`` of ``job_id`` (``RUNNING``, ``COMPLETING``...), or ``None``.

    Args:
        job_id: The job.
    """
    try:
        shown = subprocess.run(
            ["scontrol", "show", "job", "-o", job_id],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for field in shown.stdout.split():
        if field.startswith("JobState="):
            return field.removeprefix("JobState=")
    return None


def _requeue(job_id: str) -> str | None:
    """Run ``scontrol requeue job_id``; the error when it fails, else ``None``."""
    try:
        done = subprocess.run(
            ["scontrol", "requeue", job_id], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()


def requeue_stopped_job(cfg: Any, run_dir: Path) -> None:
    """After SIGTERM stopped training: requeue the job when ``decide`` says so.

    Args:
        cfg: The train config (``requeue``).
        run_dir: The run folder, where the next start resumes.
    """
    from pegboard.runner._console import echo
    from pegboard.runner.ranks import global_rank

    job_id = submitit_job_id()
    if job_id is None:
        return
    rank = global_rank()
    enabled = bool(cfg.get("requeue", True))
    decision = decide(enabled, job_id, rank, job_state(job_id) if enabled and rank == 0 else None)
    if not decision.requeue:
        echo(f"Not requeued: {decision.reason}.")
        return
    error = _requeue(job_id)
    if error:
        echo(f"SLURM job {job_id}: scontrol requeue failed ({error}); continue as shown above.")
    else:
        echo(
            f"Requeued: {decision.reason}; its next start resumes from "
            f"{run_dir / 'checkpoints' / 'last.ckpt'} in this run folder."
        )


@contextmanager
def requeue_on_sigterm(cfg: Any, run_dir: Path) -> Iterator[None]:
    """Run a training job; when it exits after SIGTERM, see whether to requeue its job.

    Args:
        cfg: The train config.
        run_dir: The run folder.
    """
    try:
        yield
    except SystemExit as stop:
        if stop.code == EXIT_SIGTERM:
            requeue_stopped_job(cfg, run_dir)
        raise


def restart_checkpoint(cfg: Any, run_dir: Path) -> tuple[str, dict[str, Any]] | None:
    """The checkpoint and config a requeued job resumes with, or ``None`` to start as usual.

    A requeued job of ``hydra/launcher=slurm`` (``SLURM_RESTART_COUNT`` 1 or more) whose
    run folder holds ``checkpoints/last.ckpt`` resumes from it with the config stored in
    it: the one its first start ran with (``config.yaml`` holds the same), read from a
    file written atomically, which no other rank of the job is rewriting meanwhile.

    Args:
        cfg: The train config (``requeue``).
        run_dir: The run folder (the same on every start of the job).

    Raises:
        ConfigError: ``last.ckpt`` does not load, holds no pegboard config, or that
            config would build what the allow-list refuses.
    """
    from pegboard.config_guard import check_checkpoint_config
    from pegboard.runner._console import echo
    from pegboard.runner.checkpoint import record_of
    from pegboard.runner.checkpoint_io import load_checkpoint

    last = run_dir / "checkpoints" / "last.ckpt"
    job_id = submitit_job_id()
    restarts = restart_count()
    if not cfg.get("requeue", True) or job_id is None or restarts < 1 or not last.is_file():
        return None
    checkpoint = load_checkpoint(last)
    config = record_of(checkpoint, last).config
    check_checkpoint_config(config, checkpoint, last)
    echo(f"SLURM restart {restarts} of job {job_id}: resuming from {last} with the run's config")
    return str(last), config


def check_slurm_commands(cfg: Any) -> None:
    """Refuse ``hydra/launcher=slurm`` on a machine that cannot submit: one line.

    Without it, submitit fails inside the sweep with a traceback, after the sweep
    folder is made.

    Args:
        cfg: The composed config, with its ``hydra`` node.

    Raises:
        ConfigError: ``sbatch`` or ``srun`` is not on ``PATH``.
    """
    from omegaconf import OmegaConf

    target = OmegaConf.select(cfg, "hydra.launcher._target_", default=None)
    if target != SLURM_LAUNCHER:
        return
    missing = [name for name in SLURM_COMMANDS if shutil.which(name) is None]
    if missing:
        raise ConfigError(
            f"hydra/launcher=slurm submits jobs with sbatch and srun; {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not on PATH: run on a SLURM login node, "
            "or use hydra/launcher=submitit_local"
        )


__all__ = [
    "SLURM_COMMANDS",
    "SLURM_LAUNCHER",
    "Decision",
    "check_slurm_commands",
    "decide",
    "job_state",
    "requeue_on_sigterm",
    "requeue_stopped_job",
    "restart_checkpoint",
    "restart_count",
    "submitit_job_id",
]
