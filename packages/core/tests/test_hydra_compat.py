"""pegboard's one use of Hydra's private code still matches the installed Hydra."""

from __future__ import annotations

from pathlib import Path

from pegboard._compat import BASIC_LAUNCHER, BASIC_SWEEPER, VERSION_BASE, hydra_args_parser


def test_hydra_main_parses_with_the_parser_pegboard_checks_with() -> None:
    # pegboard checks what hydra_args_parser read, then hydra.main parses sys.argv again:
    # both must be Hydra's one parser, and its pickle-loading rerun flag must be known.
    import importlib

    from hydra._internal.utils import get_args_parser

    assert importlib.import_module("hydra.main").get_args_parser is get_args_parser
    assert hydra_args_parser().parse_args(["--experimental-rerun", "x.pickle"]).experimental_rerun


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


def test_a_pickled_rerun_is_refused_before_hydra_runs(tmp_path: Path) -> None:
    import pytest

    from pegboard.errors import ConfigError
    from pegboard.runner.app import run_command

    pickled = tmp_path / "config.pickle"
    pickled.write_bytes(b"not even read")
    with pytest.raises(ConfigError, match="--experimental-rerun is not supported"):
        run_command("train", ["--experimental-rerun", str(pickled), f"hydra.run.dir={tmp_path}/r"])
    assert not (tmp_path / "r").exists()


def test_omegaconfs_unknown_resolver_message_still_leads_with_the_name() -> None:
    import pytest
    from omegaconf import OmegaConf
    from omegaconf.errors import UnsupportedInterpolationType

    from pegboard._compat import unsupported_resolver_name

    with pytest.raises(UnsupportedInterpolationType) as caught:
        OmegaConf.create({"a": "${nobody_registered:1}"}).a  # noqa: B018
    assert unsupported_resolver_name(caught.value) == "nobody_registered"
