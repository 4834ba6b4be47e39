"""pegboard's one use of Hydra's private code still matches the installed Hydra."""

from __future__ import annotations

import inspect

from pegboard._hydra_compat import BASIC_LAUNCHER, BASIC_SWEEPER, VERSION_BASE, hydra_args_parser


def test_hydra_still_runs_apps_the_way_pegboard_calls_it() -> None:
    from hydra._internal.utils import _run_hydra

    parameters = inspect.signature(_run_hydra).parameters
    named = ["args", "args_parser", "task_function", "config_path", "config_name"]
    assert list(parameters)[:5] == named
    # Anything after those must keep a default: pegboard passes exactly these five.
    assert all(p.default is not p.empty for p in list(parameters.values())[5:])


def test_hydras_parser_still_reads_the_flags_pegboard_relies_on() -> None:
    args = hydra_args_parser().parse_args(
        ["model=mlp", "--cfg", "job", "--resolve", "--config-dir", "x", "--multirun"]
    )
    assert args.overrides == ["model=mlp"] and args.cfg == "job" and args.resolve
    assert args.config_dir == "x" and args.multirun and args.config_path is None
    for flag in ("help", "hydra_help", "info", "shell_completion", "config_name"):
        assert hasattr(args, flag)


def test_one_behaviour_level() -> None:
    from hydra import version

    assert VERSION_BASE == "1.3" and hasattr(version, "setbase")


def test_hydras_own_sweeper_and_launcher_keep_their_class_paths() -> None:
    from hydra.core.plugins import Plugins
    from hydra.plugins.launcher import Launcher
    from hydra.plugins.sweeper import Sweeper
    from hydra.utils import get_class

    assert issubclass(get_class(BASIC_SWEEPER), Sweeper)
    assert issubclass(get_class(BASIC_LAUNCHER), Launcher)
    # The classes Hydra's own plugin registry offers: configs name them by these paths.
    plugins = Plugins.instance()
    registered = {f"{c.__module__}.{c.__name__}" for c in plugins.discover(Sweeper)}
    registered |= {f"{c.__module__}.{c.__name__}" for c in plugins.discover(Launcher)}
    assert {BASIC_SWEEPER, BASIC_LAUNCHER} <= registered
