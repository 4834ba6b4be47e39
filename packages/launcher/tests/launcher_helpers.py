"""Helpers shared by the launcher's tests (fixtures live in conftest.py)."""

from __future__ import annotations

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


def pegboard_command() -> list[str]:
    """The installed ``pegboard`` script of this environment (``-m`` when not found)."""
    script = Path(sys.executable).with_name("pegboard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pegboard_launcher"]


def real_packs_installed() -> bool:
    """Whether packs other than the tests' own are installed (the everything-session)."""
    from importlib.metadata import entry_points

    return bool(entry_points(group="pegboard.plugins"))
