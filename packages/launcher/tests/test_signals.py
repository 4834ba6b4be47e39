"""SIGTERM and Ctrl+C reach every command in every phase: the run says interrupted, the
exit status says 143 or 130, for eval and predict as for train."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from launcher_helpers import TINY_RUN, pegboard_command

pytestmark = pytest.mark.heavy

SLOW_DATA = """
import pathlib, time
from pegboard.testing.datamodule import RandomImageDataModule


class SlowSetup(RandomImageDataModule):
    # Stops inside pegboard's own code, before any Lightning loop runs.
    def __init__(self, **options):
        super().__init__(**options)
        pathlib.Path("REACHED").write_text("setup")
        time.sleep(120)


class SlowLoop(RandomImageDataModule):
    # Stops inside Lightning's test or predict loop, between batches.
    def _slow(self, loader):
        for batch in loader:
            pathlib.Path("REACHED").write_text("loop")
            time.sleep(2)
            yield batch

    def test_dataloader(self):
        return self._slow(super().test_dataloader())

    def predict_dataloader(self):
        return self._slow(super().predict_dataloader())
"""
DATA = """\
_target_: slow_data.{name}
input_shape: [1, 4, 4]
num_classes: 3
num_samples: 48
batch_size: 8
"""


@pytest.fixture
def project(working_packs, tmp_path: Path) -> Path:
    (tmp_path / "slow_data.py").write_text(SLOW_DATA)
    folder = tmp_path / "configs" / "data"
    folder.mkdir(parents=True)
    for name in ("SlowSetup", "SlowLoop"):
        (folder / f"{name.lower()}.yaml").write_text(DATA.format(name=name))
    trained = subprocess.run(
        [*pegboard_command(), "train", *TINY_RUN, "plots=false", "test=false"],
        cwd=tmp_path,
        env={**os.environ, "PEGBOARD_LOG_DIR": str(tmp_path / "logs")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    return tmp_path


def _interrupt(project: Path, command: str, data: str, signum: int) -> tuple[int, str]:
    marker = project / "REACHED"
    marker.unlink(missing_ok=True)
    process = subprocess.Popen(
        [*pegboard_command(), command, "ckpt_path=best", f"data={data}"],
        cwd=project,
        env={**os.environ, "PEGBOARD_LOG_DIR": str(project / "logs")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()[0][-2000:]
    process.send_signal(signum)
    output, _ = process.communicate(timeout=120)
    return process.returncode, output


@pytest.mark.parametrize("command", ["eval", "predict"])
@pytest.mark.parametrize("data", ["slowsetup", "slowloop"])
def test_sigterm_marks_the_run_interrupted_and_exits_143(project, command, data) -> None:
    code, output = _interrupt(project, command, data, signal.SIGTERM)
    assert code == 143, output[-2000:]
    assert f"pegboard {command}: interrupted by SIGTERM" in output
    (status,) = (project / "logs" / command).rglob("status.json")
    assert json.loads(status.read_text())["status"] == "interrupted"


def test_ctrl_c_marks_the_run_interrupted_and_exits_130(project) -> None:
    code, output = _interrupt(project, "eval", "slowloop", signal.SIGINT)
    assert code == 130, output[-2000:]
    assert "pegboard eval: interrupted by Ctrl+C" in output
    (status,) = (project / "logs" / "eval").rglob("status.json")
    assert json.loads(status.read_text())["status"] == "interrupted"
