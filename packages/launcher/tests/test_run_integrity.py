"""Runs started together, killed, or picked again: each keeps its own folder and its truth."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from launcher_helpers import TINY_RUN, pegboard_command


@pytest.mark.heavy
def test_eight_runs_started_together_write_eight_folders(working_packs, tmp_path: Path) -> None:
    wanted = tmp_path / "logs" / "train" / "runs" / "same-second"
    env = {**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs")}
    args = [*pegboard_command(), "train", *TINY_RUN, "test=false", "plots=false"]
    runs = [
        subprocess.Popen(
            [*args, f"seed={seed}", f"hydra.run.dir={wanted}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(8)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0] * 8, [err for _, err in outputs]
    folders = sorted(p for p in wanted.parent.iterdir() if p.name.startswith("same-second"))
    assert len(folders) == 8
    statuses = [json.loads((f / "status.json").read_text())["status"] for f in folders]
    assert statuses == ["completed"] * 8
    # Each folder holds its own run's config: no run wrote into another's folder.
    seeds = [yaml_seed((f / "config.yaml").read_text()) for f in folders]
    assert sorted(seeds) == list(range(8))


def yaml_seed(text: str) -> int:
    from omegaconf import OmegaConf

    return int(OmegaConf.create(text).seed)


STOPPER = """
import os, signal
import pytorch_lightning as pl


class SigtermAt(pl.Callback):
    def __init__(self, step):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)
"""


def _pegboard(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs")}
    command = [*pegboard_command(), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_resume_continues_the_run_with_its_own_config(working_packs, tmp_path: Path) -> None:
    (tmp_path / "stopper.py").write_text(STOPPER)
    original = [*TINY_RUN[:2], "trainer.max_epochs=3", "seed=3", "plots=false", "test=false"]
    stop = ["+callbacks.stop._target_=stopper.SigtermAt", "+callbacks.stop.step=4"]
    stopped = _pegboard(tmp_path, "train", *original, *TINY_RUN[3:], *stop)
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    (run,) = (tmp_path / "logs" / "train" / "runs").iterdir()
    assert json.loads((run / "status.json").read_text())["status"] == "interrupted"
    printed = f"pegboard train ckpt_path=last run={run} model=tiny data=tiny_images"
    assert f"Continue with: {printed}\n" in stopped.stdout

    # The printed command, plus one change (++ sets a key the stored config has and
    # today's composition lacks): neither max_epochs nor seed is repeated.
    resumed = _pegboard(tmp_path, *printed.split()[1:], "++callbacks.stop=null")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"Continuing run {run} in {run}_resumed" in resumed.stdout
    assert "callbacks.stop._target_: 'stopper.SigtermAt' -> '(removed)'" in resumed.stdout
    folder = run.with_name(f"{run.name}_resumed")
    assert json.loads((folder / "status.json").read_text())["status"] == "completed"
    config = (folder / "config.yaml").read_text()
    assert "max_epochs: 3" in config and "seed: 3" in config and "stop: null" in config
    import torch

    final = torch.load(folder / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["global_step"] == 9  # 3 epochs of 3 batches: the run's own length
    # The interrupted run is left as it was.
    assert json.loads((run / "status.json").read_text())["status"] == "interrupted"


def test_resume_without_an_unfinished_run_says_so(working_packs, tmp_path: Path) -> None:
    done = _pegboard(tmp_path, "train", *TINY_RUN, "plots=false", "test=false")
    assert done.returncode == 0, done.stderr[-2000:]
    again = _pegboard(tmp_path, "train", *TINY_RUN[:2], "ckpt_path=last")
    assert again.returncode == 2
    assert "every run in" in again.stderr and "completed" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.heavy
def test_ddp_spawn_with_the_csv_logger_finishes(working_packs, tmp_path: Path) -> None:
    # The hyperparameters are logged in the process that trains, so the CSV logger of the
    # launching process never holds a stale header when it writes the test metrics.
    args = ["train", *TINY_RUN, "trainer=ddp_cpu", "trainer.strategy=ddp_spawn", "plots=false"]
    result = _pegboard(tmp_path, *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Test accuracy: " in result.stdout and "LeafSpec" not in result.stderr
    (metrics,) = (tmp_path / "logs").rglob("csv/metrics.csv")
    assert "test/acc" in metrics.read_text().splitlines()[0]
