"""Run directories are never reused, and each run says how it ended."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from pegboard.runner.rundir import RunStatus, UniqueRunDir


def _hydra_config(run_dir: Path) -> OmegaConf:
    cfg = OmegaConf.create({"hydra": {"run": {"dir": str(run_dir)}, "sweep": {"dir": "x"}}})
    OmegaConf.set_readonly(cfg.hydra, True)
    return cfg


def test_free_run_dir_is_kept(tmp_path: Path) -> None:
    cfg = _hydra_config(tmp_path / "run")
    UniqueRunDir().on_run_start(cfg)
    assert cfg.hydra.run.dir == str(tmp_path / "run")


def test_used_run_dir_moves_to_a_numbered_sibling(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "status.json").write_text("{}")
    (tmp_path / "run_1").mkdir()
    cfg = _hydra_config(tmp_path / "run")
    UniqueRunDir().on_run_start(cfg)
    assert cfg.hydra.run.dir == str(tmp_path / "run_2")


def test_ddp_workers_keep_the_launching_process_dir(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "status.json").write_text("{}")
    monkeypatch.setenv("LOCAL_RANK", "1")
    cfg = _hydra_config(tmp_path / "run")
    UniqueRunDir().on_run_start(cfg)
    assert cfg.hydra.run.dir == str(tmp_path / "run")


def test_status_records_running_then_failure(tmp_path: Path) -> None:
    status = RunStatus(tmp_path)
    assert json.loads((tmp_path / "status.json").read_text())["status"] == "running"
    status.failed(ValueError("bad value"))
    recorded = json.loads((tmp_path / "status.json").read_text())
    assert recorded["status"] == "failed"
    assert recorded["error"] == "ValueError: bad value"


def test_status_records_completion_with_metrics(tmp_path: Path) -> None:
    RunStatus(tmp_path).completed({"test/acc": 0.9})
    recorded = json.loads((tmp_path / "status.json").read_text())
    assert recorded["status"] == "completed"
    assert recorded["metrics"] == {"test/acc": 0.9}
