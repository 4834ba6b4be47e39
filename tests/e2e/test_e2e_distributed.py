"""Distributed runs as users start them: Lightning's DDP, and torchrun with two "nodes".

Two torchrun agents on this machine stand for two nodes: each starts one ``pegboard``
process, and they meet at 127.0.0.1 as real nodes meet at their master's address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port, metrics_of, pegboard_executable, run_dir_of

TINY = ["model=mlp", "data=digits", "trainer.max_epochs=1", "plots=false"]


def _close(first: dict[str, float], second: dict[str, float]) -> None:
    for name in ("test/acc", "test/loss"):
        assert first[name] == pytest.approx(second[name], abs=1e-6), name


def test_ddp_test_metrics_count_each_sample_once(run_pegboard) -> None:
    trained = run_pegboard("train", *TINY, "trainer=ddp_cpu")
    assert trained.returncode == 0, trained.stderr
    run_dir = run_dir_of(trained)
    single = run_pegboard("eval", f"ckpt_path={run_dir}/checkpoints/last.ckpt")
    both = run_pegboard("eval", f"ckpt_path={run_dir}/checkpoints/last.ckpt", "trainer=ddp_cpu")
    assert single.returncode == 0 and both.returncode == 0, single.stderr + both.stderr
    # digits' test split has an odd number of images: padding would count one twice.
    _close(metrics_of(run_dir), metrics_of(run_dir_of(single)))
    _close(metrics_of(run_dir_of(both)), metrics_of(run_dir_of(single)))


def _torchrun() -> list[str]:
    script = Path(sys.executable).with_name("torchrun")
    return [str(script)] if script.exists() else [sys.executable, "-m", "torch.distributed.run"]


def test_torchrun_on_two_nodes_writes_one_complete_run(tmp_path: Path, run_pegboard) -> None:
    port = free_port()
    env = {**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs")}
    overrides = [*TINY, "trainer=ddp_cpu", "trainer.devices=1", "+trainer.num_nodes=2"]
    nodes = [
        subprocess.Popen(
            [
                *_torchrun(),
                "--nnodes=2",
                "--nproc-per-node=1",
                f"--node-rank={rank}",
                "--master-addr=127.0.0.1",
                f"--master-port={port}",
                pegboard_executable(),
                "train",
                *overrides,
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=300) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    runs = sorted((tmp_path / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 1  # one folder for both nodes, not one per node
    run_dir = runs[0]
    # Only global rank 0 printed the summary and wrote the run's files.
    assert f"Run directory: {run_dir}" in outputs[0][0]
    assert "Run directory" not in outputs[1][0]
    assert json.loads((run_dir / "status.json").read_text())["status"] == "completed"
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "epoch_000.ckpt",
        "last.ckpt",
    ]
    single = run_pegboard("eval", f"ckpt_path={run_dir}/checkpoints/epoch_000.ckpt")
    assert single.returncode == 0, single.stderr
    _close(metrics_of(run_dir), metrics_of(run_dir_of(single)))


def test_two_nodes_without_a_launcher_fail_at_once(run_pegboard, tmp_path: Path) -> None:
    result = run_pegboard("train", *TINY, "trainer=ddp_cpu", "+trainer.num_nodes=2", timeout=60)
    assert result.returncode == 2
    assert "trainer.num_nodes=2" in result.stderr and "torchrun" in result.stderr
    assert not (tmp_path / "logs" / "train").exists()
