"""Run a pegboard command as a Hydra app, with the config chosen by the command's name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

CONFIG_MODULE = "pegboard.conf"


def _train_task(cfg: Any) -> Any:
    # Imported here, not at the top: `--help` and `--cfg job` must not pay for torch.
    from pegboard.runner.train import train

    return train(cfg)


#: Sub-command name -> Hydra task function. The primary config has the same name.
COMMANDS: dict[str, Callable[[Any], Any]] = {"train": _train_task}


def run_command(command: str, argv: Sequence[str]) -> None:
    """Parse Hydra's arguments and run ``command`` with the ``<command>.yaml`` primary config.

    Args:
        command: A key of ``COMMANDS``.
        argv: Everything after the sub-command: overrides and Hydra flags.
    """
    from hydra._internal.utils import _run_hydra, get_args_parser

    parser = get_args_parser()
    args = parser.parse_args(list(argv))
    _run_hydra(
        args=args,
        args_parser=parser,
        task_function=COMMANDS[command],
        config_path=f"pkg://{CONFIG_MODULE}",
        config_name=command,
    )
