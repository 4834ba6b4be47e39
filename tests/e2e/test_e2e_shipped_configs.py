"""Every config option that pegboard and the installed packs ship passes the allow-list.

The allow-list is exact: a class a shipped config names but no manifest advertises (or
a namespace that does not cover it) would refuse a feature users rely on. This composes
each option of each group into the primary config with the hydra node, as the command
does before Hydra runs, and checks all of it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

from pegboard.runner.app import COMMANDS, CONFIG_MODULE
from pegboard.runner.precheck import check_command_config
from pegboard_launcher.cli import prepare
from pegboard_launcher.discovery import discover
from pegboard_launcher.index import build_index

#: Groups whose options need a Hydra plugin: (group, option) -> the module it needs.
NEEDS = {("hydra/launcher", "slurm"): "hydra_plugins.hydra_submitit_launcher"}


def _options() -> list[tuple[str, str]]:
    index = build_index(discover(), include_project=False)
    found = [(group, option) for group in index.groups() for option in index.options(group)]
    found += [("hydra/launcher", "slurm")]  # core's own, under the hydra group
    return sorted(set(found))


@pytest.fixture(scope="module", autouse=True)
def prepared() -> Iterator[None]:
    """Discovery and the search path, as the command sets them; the environment restored."""
    before = dict(os.environ)
    prepare()
    yield
    os.environ.clear()
    os.environ.update(before)


@pytest.mark.parametrize(("group", "option"), _options())
def test_each_shipped_option_passes_the_allow_list(group: str, option: str) -> None:
    needed = NEEDS.get((group, option))
    if needed:
        try:
            importlib.import_module(needed)
        except ImportError:
            pytest.skip(f"{group}={option} needs {needed}, not installed in this session")
    # Every group is in train's defaults list (experiment, debug... as null).
    # Only what could run code: some options need values from the user (image_folder).
    train = COMMANDS["train"].config
    check_command_config(CONFIG_MODULE, train, [f"{group}={option}"], values=False)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_primary_config_passes_the_allow_list(command: str) -> None:
    check_command_config(CONFIG_MODULE, COMMANDS[command].config, [])
