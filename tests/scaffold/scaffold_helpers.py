"""What the scaffold's end-to-end tests share: the installed ``pegboard``, and skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest


def require_installed(pack: str) -> None:
    """Skip the calling test module unless ``pack`` is installed (nox -s scaffold does it)."""
    try:
        distribution(pack)
    except PackageNotFoundError:
        pytest.skip(
            f"{pack} is not installed (nox -s scaffold installs it)", allow_module_level=True
        )


def pegboard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``pegboard ARGS...`` in ``cwd``, its runs under ``cwd/logs``."""
    script = Path(sys.executable).with_name("pegboard")
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PEGBOARD_LOG_DIR": str(cwd / "logs")},
        check=False,
    )
