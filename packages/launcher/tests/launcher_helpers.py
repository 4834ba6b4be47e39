"""Helpers shared by the launcher's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Overrides that train the ``working_packs`` quickly and quietly.
TINY_RUN = (
    "model=tiny",
    "data=tiny_images",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
)


def run_pegboard(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``pegboard`` with ``args``; runs go to ``./logs`` of the test.

    Args:
        *args: The command line after ``pegboard``.
        cwd: The working directory (the test's by default).
        env: More environment variables.
    """
    return subprocess.run(
        [*pegboard_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PEGBOARD_LOG_DIR": str(Path.cwd() / "logs"), **(env or {})},
        check=False,
    )


def pegboard_command() -> list[str]:
    """The installed ``pegboard`` script of this environment (``-m`` when not found)."""
    script = Path(sys.executable).with_name("pegboard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pegboard_launcher"]


def real_packs_installed() -> bool:
    """Whether packs other than the tests' own are installed (the everything-session)."""
    from importlib.metadata import entry_points

    return bool(entry_points(group="pegboard.plugins"))
