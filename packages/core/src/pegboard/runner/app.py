"""Run a pegboard command as a Hydra app, with the config chosen by the command's name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pegboard.errors import ConfigError, PegboardError

CONFIG_MODULE = "pegboard.conf"


@dataclass(frozen=True)
class Command:
    """A runner command: ``pegboard <name>`` composes ``<config>.yaml`` and calls ``task``.

    Args:
        summary: One line for ``pegboard --help``.
        task: The Hydra task function; it imports its heavy modules itself.
        config: The primary config's name.
        file_names: Config keys that name a file of the run directory: plain names only.
    """

    summary: str
    task: Callable[[Any], Any]
    config: str
    file_names: tuple[str, ...] = ()


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
        file_names=("name",),
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
#: The module each of those extras installs: found (never imported) when it is installed.
HYDRA_PLUGIN_MODULES: dict[str, str] = {
    "optuna": "hydra_plugins.hydra_optuna_sweeper",
    "joblib": "hydra_plugins.hydra_joblib_launcher",
    "submitit": "hydra_plugins.hydra_submitit_launcher",
}


def run_command(command: str, argv: Sequence[str]) -> None:
    """Parse Hydra's arguments and run ``command`` with its primary config.

    Args:
        command: A key of ``COMMANDS``.
        argv: Everything after the sub-command: overrides and Hydra flags.
    """
    from pegboard._compat import hydra_args_parser
    from pegboard.runner import signals

    # Before anything else: a SIGTERM in any phase marks the run and exits with 143.
    signals.install()
    args = hydra_args_parser().parse_args(list(argv))
    if args.config_path is not None:
        raise ConfigError(
            "--config-path is not supported: each pegboard command has its own primary "
            "config; put project configs in ./configs or add a folder with --config-dir"
        )
    if args.experimental_rerun is not None:
        # Hydra's rerun reads a pickle file: loading one can run any code it holds.
        raise ConfigError(
            "--experimental-rerun is not supported: it loads a pickled config, which can run "
            "code; rerun with the overrides in the run's .hydra/overrides.yaml instead"
        )
    if not (args.help or args.hydra_help or args.cfg or args.info or args.shell_completion):
        from pegboard.hooks import pack_hooks
        from pegboard.runner.precheck import check_command_config
        from pegboard.runner.quiet import quiet_third_parties

        # Sweepers and launchers log in this process before any job starts.
        quiet_third_parties()
        # Before composition: configs may interpolate the packs' resolvers.
        pack_hooks().register_resolvers()

        # Hydra acts on the hydra node (callbacks, logging, env) before the job starts.
        check_command_config(
            CONFIG_MODULE,
            args.config_name or COMMANDS[command].config,
            args.overrides,
            args.config_dir,
            COMMANDS[command].file_names,
        )
    failures: list[PegboardError] = []
    _run_hydra_main(COMMANDS[command], list(argv), failures)
    if failures:
        raise failures[0]


def _run_hydra_main(command: Command, argv: list[str], failures: list[PegboardError]) -> None:
    """Run ``command`` through ``hydra.main``, Hydra's public entry point.

    ``hydra.main`` reads its arguments from ``sys.argv``, which for pegboard begins with the
    sub-command. Hydra sees the arguments after it while it parses them; the job then
    puts the command line back as typed, because Lightning starts DDP workers by
    re-running ``sys.argv``, and they must run the same sub-command.
    """
    import sys

    import hydra

    from pegboard._compat import VERSION_BASE

    typed = list(sys.argv)
    task = _carrying_errors(command.task, failures)

    def job(cfg: Any) -> Any:
        sys.argv = typed
        return task(cfg)

    app = hydra.main(
        config_path=f"pkg://{CONFIG_MODULE}", config_name=command.config, version_base=VERSION_BASE
    )(job)
    sys.argv = [typed[0], *argv]
    try:
        app()
    finally:
        sys.argv = typed


def _carrying_errors(
    task: Callable[[Any], Any], failures: list[PegboardError]
) -> Callable[[Any], Any]:
    """``task``, handing a single run's pegboard error out past Hydra instead of through it.

    Hydra writes its own line about a job's exception before re-raising it; a mistake in
    a config is reported by pegboard in one line. Multirun jobs raise as before, so the
    sweep records each job's failure.
    """

    def run(cfg: Any) -> Any:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        from pegboard.hooks import pack_hooks
        from pegboard.runner.lifecycle import announce_finished
        from pegboard.runner.quiet import quiet_third_parties

        quiet_third_parties()
        # A joblib worker is a fresh process: the packs' resolvers are registered there too.
        pack_hooks().register_resolvers()
        try:
            return task(cfg)
        except PegboardError as error:
            if HydraConfig.get().mode == RunMode.MULTIRUN:
                raise
            failures.append(error)
            return None
        finally:
            announce_finished(cfg)

    return run


__all__ = [
    "COMMANDS",
    "CONFIG_MODULE",
    "HYDRA_PLUGIN_EXTRAS",
    "HYDRA_PLUGIN_MODULES",
    "Command",
    "run_command",
]
