"""End-to-end tests run the installed ``pegboard`` command in subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Fast, quiet runs: the progress bar off, a few epochs. Tests that need more say so.
QUICK = ["trainer.max_epochs=2", "~callbacks.progress_bar", "trainer.enable_progress_bar=false"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pegboard_executable() -> str:
    """The ``pegboard`` script of the environment running the tests."""
    script = Path(sys.executable).with_name("pegboard")
    found = str(script) if script.exists() else shutil.which("pegboard")
    if not found:
        pytest.fail("the pegboard command is not installed in this environment")
    return found


@pytest.fixture
def run_pegboard(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``pegboard ARGS...`` in ``tmp_path`` (or ``cwd``) and return the finished process."""

    def run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            **os.environ,
            "PEGBOARD_LOG_DIR": str(tmp_path / "logs"),
            # Downloads and registry fetches stay in the test's folder, never ~/.cache.
            "PEGBOARD_CACHE_DIR": str(tmp_path / "cache"),
            **(env or {}),
        }
        return subprocess.run(
            [pegboard_executable(), *args],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def run_dir_of(result: subprocess.CompletedProcess[str]) -> Path:
    """The run directory that ``pegboard train`` printed on its last lines."""
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("Run directory: "):
            return Path(line.removeprefix("Run directory: ").strip())
    raise AssertionError(f"no run directory printed:\n{result.stdout}\n{result.stderr}")


def metrics_of(run_dir: Path) -> dict[str, float]:
    """The final metrics a run wrote."""
    return json.loads((run_dir / "metrics.json").read_text())
