"""kill -9 and SIGTERM at random points of every phase: the resume command always finishes
the run with its original config and the weights of a run that was never interrupted.

A project callback (``faults.Fault``) kills the process from inside a chosen Lightning
hook, at a call drawn at random: setup, the sanity check, a training batch, a validation
batch, the end of an epoch, a checkpoint save, a test batch, teardown. Kills from outside
at random delays hit what lies before and between (imports, the config check, building).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from pathlib import Path

import pytest
from launcher_helpers import pegboard_command

pytestmark = pytest.mark.heavy

FAULTS = """
import os, signal
import pytorch_lightning as pl


class Fault(pl.Callback):
    # FAULT=hook:nth:SIGNAL kills this process at the nth call of that hook.
    def __init__(self):
        plan = os.environ.get("FAULT", "")
        self.hook, nth, name = plan.split(":") if plan else ("", "0", "SIGTERM")
        self.nth, self.signal, self.calls = int(nth), getattr(signal, name), 0

    def _tick(self, hook):
        if hook == self.hook:
            self.calls += 1
            if self.calls == self.nth:
                os.kill(os.getpid(), self.signal)

    def setup(self, trainer, pl_module, stage):
        self._tick("setup")

    def on_sanity_check_start(self, trainer, pl_module):
        self._tick("sanity")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._tick("train_batch")

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._tick("val_batch")

    def on_train_epoch_end(self, trainer, pl_module):
        self._tick("epoch_end")

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        self._tick("save")

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        self._tick("test_batch")

    def teardown(self, trainer, pl_module, stage):
        self._tick("teardown")
"""
#: Hook -> how many calls a run makes of it (3 epochs of 6 batches, validated each epoch).
HOOKS = {
    "setup": 2,
    "sanity": 1,
    "train_batch": 18,
    "val_batch": 8,
    "epoch_end": 3,
    "save": 3,
    "test_batch": 2,
    "teardown": 2,
}
RUN = [
    "train",
    "model=tiny",
    "data=tiny_images",
    "data.num_samples=96",
    "data.batch_size=12",
    "trainer.max_epochs=3",
    "trainer.deterministic=true",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
    "~callbacks.early_stopping",
    "seed=11",
    "plots=false",
    "+callbacks.fault._target_=faults.Fault",
]


def _env(tmp_path: Path, fault: str = "") -> dict[str, str]:
    return {**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs"), "FAULT": fault}


def _run(tmp_path: Path, args: list[str], fault: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pegboard_command(), *args],
        cwd=tmp_path,
        env=_env(tmp_path, fault),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _killed_after(tmp_path: Path, delay: float, signum: int) -> int:
    process = subprocess.Popen(
        [*pegboard_command(), *RUN],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signum)
    return process.wait(120)


def _runs(tmp_path: Path) -> set[Path]:
    folder = tmp_path / "logs" / "train" / "runs"
    return set(folder.iterdir()) if folder.is_dir() else set()


def _weights(checkpoint: Path) -> dict:
    import torch

    return torch.load(checkpoint, weights_only=True)["state_dict"]


def _finish(tmp_path: Path, before: set[Path]) -> Path:
    """Run what the docs say after a kill; return the checkpoint the run ended with."""
    started = _runs(tmp_path) - before
    if not started:  # killed before it claimed a folder: nothing started, run it again
        result = _run(tmp_path, RUN)
    else:
        (run,) = started
        resume = ["train", "ckpt_path=last", f"run={run}", "model=tiny", "data=tiny_images"]
        result = _run(tmp_path, resume)
        if result.returncode == 2 and "run the original command again" in result.stderr:
            result = _run(tmp_path, RUN)
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
    folder = Path(result.stdout.rsplit("Run directory: ", 1)[1].split()[0])
    if (folder / "checkpoints" / "last.ckpt").is_file():
        return folder / "checkpoints" / "last.ckpt"
    # Killed after its last epoch's checkpoint: the continuation only tests, and the
    # run's final weights are the checkpoint it continued from.
    return Path(result.stdout.split("Resuming from ", 1)[1].split()[0])


def _trials() -> list[tuple[str, str]]:
    rng = random.Random(20261201)
    inside = [
        (f"{hook}:{rng.randint(1, calls)}:{name}", name)
        for name in ("SIGKILL", "SIGTERM")
        for hook, calls in HOOKS.items()
    ]
    outside = [
        (f"after:{rng.uniform(0.5, 6.0):.2f}:{name}", name)
        for name in ("SIGKILL", "SIGTERM")
        for _ in range(3)
    ]
    return inside + outside


def _trial(folder: Path, plan: str, name: str) -> Path:
    """Run one fault in its own project folder; return the checkpoint the run ended with."""
    folder.mkdir()
    (folder / "faults.py").write_text(FAULTS)
    if plan.startswith("after:"):
        code = _killed_after(folder, float(plan.split(":")[1]), getattr(signal, name))
    else:
        code = _run(folder, RUN, plan).returncode
    assert code in (0, 143, -9), (plan, code)
    if code == 0:  # the fault came after the run's end: it finished untouched
        (run,) = _runs(folder)
        return run / "checkpoints" / "last.ckpt"
    return _finish(folder, set())


def test_every_kill_resumes_to_the_uninterrupted_weights(working_packs, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    trials = _trials()
    assert len(trials) >= 20
    expected = _weights(_trial(tmp_path / "straight", "", "SIGTERM"))
    # Two at a time, each in its own folder: one per core of the test machine.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            plan: pool.submit(_trial, tmp_path / f"trial_{n}", plan, name)
            for n, (plan, name) in enumerate(trials)
        }
        for plan, future in futures.items():
            finished = future.result()
            weights = _weights(finished)
            assert weights.keys() == expected.keys(), plan
            for key, tensor in expected.items():
                assert (weights[key] == tensor).all(), (plan, key)
            config = (finished.parent.parent / "config.yaml").read_text()
            assert "max_epochs: 3" in config and "seed: 11" in config, plan
