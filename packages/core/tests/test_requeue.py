"""SLURM requeue: when a stopped job goes back in the queue, and how its restart resumes.

The real cluster runs are in tests/slurm (``nox -s slurm``); here the decisions, with
SLURM's answers stood in for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf

from pegboard.errors import ConfigError
from pegboard.runner import requeue
from pegboard.runner.metadata import CHECKPOINT_KEY
from pegboard.runner.requeue import (
    SLURM_LAUNCHER,
    check_slurm_commands,
    decide,
    requeue_on_sigterm,
    restart_checkpoint,
    restart_count,
    submitit_job_id,
)

JOB = {"SUBMITIT_EXECUTOR": "slurm", "SLURM_JOB_ID": "41"}


def test_only_a_running_job_of_the_slurm_launcher_on_rank_0_is_requeued() -> None:
    assert decide(True, "41", 0, "RUNNING").requeue
    # scancel (cancelled: COMPLETING), a time limit, SLURM's own requeue (PENDING).
    for state in ("COMPLETING", "CANCELLED", "TIMEOUT", "PENDING", None):
        decision = decide(True, "41", 0, state)
        assert not decision.requeue and "(cancelled or ended)" in decision.reason
    assert not decide(True, "41", 1, "RUNNING").requeue
    assert not decide(True, None, 0, "RUNNING").requeue
    assert decide(False, "41", 0, "RUNNING").reason == "requeue=false"


def test_the_job_id_is_read_only_inside_a_submitit_slurm_job() -> None:
    assert submitit_job_id(JOB) == "41"
    assert submitit_job_id({"SLURM_JOB_ID": "41"}) is None  # an sbatch script of one's own
    assert submitit_job_id({"SUBMITIT_EXECUTOR": "local", "SLURM_JOB_ID": "41"}) is None
    assert restart_count({"SLURM_RESTART_COUNT": "2"}) == 2
    assert restart_count({}) == 0 and restart_count({"SLURM_RESTART_COUNT": "x"}) == 0


def _stand_in_for_slurm(
    monkeypatch: pytest.MonkeyPatch, state: str | None, refusal: str | None = None
) -> list[str]:
    asked: list[str] = []
    for name in ("SUBMITIT_EXECUTOR", "SLURM_JOB_ID", "SLURM_PROCID", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in JOB.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(requeue, "job_state", lambda job_id: state)

    def scontrol_requeue(job_id: str) -> str | None:
        asked.append(job_id)
        return refusal

    monkeypatch.setattr(requeue, "_requeue", scontrol_requeue)
    return asked


def _stopped_by_sigterm(cfg: Any, run_dir: Path) -> None:
    with pytest.raises(SystemExit) as stop, requeue_on_sigterm(cfg, run_dir):
        raise SystemExit(143)
    assert stop.value.code == 143  # the exit status stays what SIGTERM makes it


def test_a_signalled_job_is_requeued_after_it_stopped(monkeypatch, tmp_path, capsys) -> None:
    asked = _stand_in_for_slurm(monkeypatch, "RUNNING")
    _stopped_by_sigterm(OmegaConf.create({"requeue": True}), tmp_path)
    assert asked == ["41"]
    assert "Requeued: SLURM job 41 was signalled" in capsys.readouterr().out


def test_a_cancelled_job_stays_cancelled(monkeypatch, tmp_path, capsys) -> None:
    asked = _stand_in_for_slurm(monkeypatch, "COMPLETING")
    _stopped_by_sigterm(OmegaConf.create({"requeue": True}), tmp_path)
    assert asked == []
    assert "Not requeued: SLURM job 41 is COMPLETING" in capsys.readouterr().out


def test_requeue_false_and_other_exits_never_ask(monkeypatch, tmp_path) -> None:
    asked = _stand_in_for_slurm(monkeypatch, "RUNNING")
    _stopped_by_sigterm(OmegaConf.create({"requeue": False}), tmp_path)
    with pytest.raises(SystemExit), requeue_on_sigterm(OmegaConf.create({}), tmp_path):
        raise SystemExit(130)  # Ctrl+C
    with pytest.raises(ValueError), requeue_on_sigterm(OmegaConf.create({}), tmp_path):
        raise ValueError("a failed run")
    assert asked == []


def test_a_refused_requeue_is_one_line(monkeypatch, tmp_path, capsys) -> None:
    _stand_in_for_slurm(monkeypatch, "RUNNING", refusal="Requested operation is disabled")
    _stopped_by_sigterm(OmegaConf.create({}), tmp_path)
    out = capsys.readouterr().out
    assert "scontrol requeue failed (Requested operation is disabled)" in out


def _checkpoint(run_dir: Path, config: dict[str, Any]) -> Path:
    last = run_dir / "checkpoints" / "last.ckpt"
    last.parent.mkdir(parents=True)
    torch.save({CHECKPOINT_KEY: {"config": config, "packs": {}}, "state_dict": {}}, last)
    return last


def test_a_restarted_job_resumes_from_last_ckpt_with_its_stored_config(
    monkeypatch, tmp_path
) -> None:
    _stand_in_for_slurm(monkeypatch, "RUNNING")
    stored = {"seed": 3, "trainer": {"max_epochs": 9}, "requeue": True}
    last = _checkpoint(tmp_path, stored)
    cfg = OmegaConf.create({"seed": 1, "requeue": True})
    assert restart_checkpoint(cfg, tmp_path) is None  # the first start: no restart yet
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert restart_checkpoint(cfg, tmp_path) == (str(last), stored)
    assert restart_checkpoint(OmegaConf.create({"requeue": False}), tmp_path) is None
    assert restart_checkpoint(cfg, tmp_path / "elsewhere") is None  # no last.ckpt: start over


def test_a_restart_checks_the_stored_config_like_any_checkpoint(monkeypatch, tmp_path) -> None:
    _stand_in_for_slurm(monkeypatch, "RUNNING")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    _checkpoint(tmp_path, {"model": {"_target_": "os.system", "command": "true"}})
    with pytest.raises(ConfigError, match="is refused"):
        restart_checkpoint(OmegaConf.create({}), tmp_path)


def test_the_slurm_launcher_without_sbatch_is_one_line(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    slurm = OmegaConf.create({"hydra": {"launcher": {"_target_": SLURM_LAUNCHER}}})
    with pytest.raises(ConfigError) as refused:
        check_slurm_commands(slurm)
    message = str(refused.value)
    assert "sbatch and srun are not on PATH" in message and "submitit_local" in message
    assert "\n" not in message
    check_slurm_commands(OmegaConf.create({"hydra": {"launcher": {"_target_": "x.Local"}}}))
    for name in ("sbatch", "srun"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    check_slurm_commands(slurm)  # a login node
