"""Run a pegboard command as a Hydra app, with the config chosen by the command's name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CONFIG_MODULE = "pegboard.conf"


@dataclass(frozen=True)
class Command:
    """A runner command: ``pegboard <name>`` composes ``<config>.yaml`` and calls ``task``.

    Args:
        summary: One line for ``pegboard --help``.
        task: The Hydra task function; it imports its heavy modules itself.
        config: The primary config's name.
    """

    summary: str
    task: Callable[[Any], Any]
    config: str


def _train_task(cfg: Any) -> Any:
    # Imported here, not at the top: `--help` and `--cfg job` must not pay for torch.
    from pegboard.runner.train import train

    return train(cfg)


def _eval_task(cfg: Any) -> Any:
    from pegboard.runner.evaluate import evaluate

    return evaluate(cfg)


def _predict_task(cfg: Any) -> Any:
    from pegboard.runner.predict import predict

    return predict(cfg)


def _export_task(cfg: Any) -> Any:
    from pegboard.runner.export import export

    return export(cfg)


def _model_info_task(cfg: Any) -> Any:
    from pegboard.runner.model_info import show_model_info

    return show_model_info(cfg)


#: Every runner command by name. The launcher offers each as ``pegboard <name>``.
COMMANDS: dict[str, Command] = {
    "train": Command(
        "Train a model, test its best checkpoint, report the metrics.", _train_task, "train"
    ),
    "eval": Command(
        "Test a checkpoint (ckpt_path=FILE|best|last) on its own data or on data=NAME.",
        _eval_task,
        "eval",
    ),
    "predict": Command(
        "Write a checkpoint's predictions for data=NAME or a folder of images (input=DIR).",
        _predict_task,
        "predict",
    ),
    "export": Command(
        "Export a checkpoint as format=torchscript|onnx|safetensors, checked against it.",
        _export_task,
        "export",
    ),
    "model-info": Command(
        "Show a model's parameter count and forward FLOPs for the data's input shape.",
        _model_info_task,
        "model-info",
    ),
}


#: Hydra plugins that pegboard's configs name, and the pegboard-core extra installing each:
#: a config that selects one which is not installed fails with a line naming the extra.
HYDRA_PLUGIN_EXTRAS: dict[str, str] = {
    "hydra/sweeper/optuna": "optuna",
    "hydra/launcher/joblib": "joblib",
    "hydra/launcher/submitit_slurm": "submitit",
    "hydra/launcher/submitit_local": "submitit",
}


def run_command(command: str, argv: Sequence[str]) -> None:
    """Parse Hydra's arguments and run ``command`` with its primary config.

    Args:
        command: A key of ``COMMANDS``.
        argv: Everything after the sub-command: overrides and Hydra flags.
    """
    from hydra._internal.utils import _run_hydra, get_args_parser

    from pegboard.errors import ConfigError

    parser = get_args_parser()
    args = parser.parse_args(list(argv))
    if args.config_path is not None:
        raise ConfigError(
            "--config-path is not supported: each pegboard command has its own primary "
            "config; put project configs in ./configs or add a folder with --config-dir"
        )
    if not (args.help or args.hydra_help or args.cfg or args.info or args.shell_completion):
        from pegboard.runner.precheck import check_command_config

        # Hydra acts on the hydra node (callbacks, logging, env) before the job starts.
        check_command_config(
            CONFIG_MODULE,
            args.config_name or COMMANDS[command].config,
            args.overrides,
            args.config_dir,
        )
    _run_hydra(
        args=args,
        args_parser=parser,
        task_function=COMMANDS[command].task,
        config_path=f"pkg://{CONFIG_MODULE}",
        config_name=COMMANDS[command].config,
    )
