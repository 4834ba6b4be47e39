"""The one place pegboard reaches into Hydra's private code; nothing else may.

Hydra's public entry point, ``hydra.main``, reads ``sys.argv`` and runs one app per
program. ``pegboard`` is one program with sub-commands (``train``, ``eval``...), each
with its own primary config, and Lightning re-runs that same command line for DDP
workers, so ``sys.argv`` must stay as the user typed it. pegboard therefore parses the
arguments after the sub-command with Hydra's own parser and runs Hydra the way
``hydra.main`` does, through ``hydra._internal.utils``. ``tests/test_hydra_compat.py``
fails when Hydra changes either function.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

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


def run_hydra(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    task: Callable[[Any], Any],
    config_path: str,
    config_name: str,
) -> None:
    """Run ``task`` as ``hydra.main`` would, at ``VERSION_BASE``, from parsed arguments.

    Args:
        args: ``hydra_args_parser().parse_args(...)``.
        parser: The parser that made ``args`` (Hydra prints its help).
        task: The task function.
        config_path: The primary configs' location (``pkg://...``).
        config_name: The primary config.
    """
    from hydra import version
    from hydra._internal.utils import _run_hydra

    version.setbase(VERSION_BASE)
    _run_hydra(
        args=args,
        args_parser=parser,
        task_function=task,
        config_path=config_path,
        config_name=config_name,
    )


__all__ = ["BASIC_LAUNCHER", "BASIC_SWEEPER", "VERSION_BASE", "hydra_args_parser", "run_hydra"]
