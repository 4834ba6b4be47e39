"""The one place pegboard reaches into Hydra's private code; nothing else may.

Commands run through ``hydra.main``, Hydra's public entry point. Before that, pegboard
reads the same arguments that ``hydra.main`` will (overrides, ``--cfg``,
``--config-dir``...) to check the config before any run folder exists; Hydra offers
its argument parser only as ``hydra._internal.utils.get_args_parser``, so it is reached
here and nowhere else. ``tests/test_hydra_compat.py`` fails when Hydra changes it or the
class paths below.
"""

from __future__ import annotations

import argparse

#: The Hydra behaviour level of every composition pegboard makes (runs, checks, the kit).
VERSION_BASE = "1.3"
#: Hydra's own sweeper and launcher, as ``hydra.sweeper._target_`` and
#: ``hydra.launcher._target_`` name them: private modules, named (never imported) here.
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


def hydra_args_parser() -> argparse.ArgumentParser:
    """Hydra's command-line parser: overrides, ``--cfg``, ``--multirun``, ``--info``..."""
    from hydra._internal.utils import get_args_parser

    return get_args_parser()


__all__ = ["BASIC_LAUNCHER", "BASIC_SWEEPER", "VERSION_BASE", "hydra_args_parser"]
