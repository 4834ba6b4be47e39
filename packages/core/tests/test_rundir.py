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


def _claim_after(barrier, wanted: str, results) -> None:
    from pegboard.runner.rundir import claim_run_dir

    barrier.wait()
    results.put(str(claim_run_dir(Path(wanted))))


def test_eight_runs_started_together_get_eight_folders(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(8), context.Queue()
    wanted = str(tmp_path / "runs" / "2026-12-01_10-00-00")
    workers = [
        context.Process(target=_claim_after, args=(barrier, wanted, results)) for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    claimed = sorted(results.get(timeout=10) for _ in workers)
    assert len(set(claimed)) == 8
    assert claimed[0] == wanted and all(Path(path).is_dir() for path in claimed)


def test_an_existing_empty_folder_is_never_reused(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    cfg = _hydra_config(tmp_path / "run")
    UniqueRunDir().on_run_start(cfg)
    assert cfg.hydra.run.dir == str(tmp_path / "run_1")
