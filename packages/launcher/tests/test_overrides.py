"""Unknown groups, options and keys are refused before Hydra runs, in pegboard's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from launcher_helpers import TINY_RUN
from launcher_helpers import run_pegboard as pegboard

from pegboard.errors import ConfigError
from pegboard.runner.app import HYDRA_PLUGIN_MODULES
from pegboard_launcher.cli import main, prepare
from pegboard_launcher.overrides import check_overrides, plugin_installed

PACKS = ("model=tiny", "data=tiny_images")
NOT_INSTALLED = "hydra_plugins.pegboard_test_not_installed"


@pytest.fixture
def index(working_packs):
    return prepare()


def refused(index, *argv: str) -> str:
    with pytest.raises(ConfigError) as error:
        check_overrides("train", list(argv), index)
    return str(error.value)


@pytest.mark.parametrize(
    "argv",
    [
        [*PACKS],
        [*PACKS, "trainer.max_epochs=3", "~callbacks.progress_bar", "+extra.key=1"],
        ["-m", "model=tiny", "data=tiny_images", "seed=1,2", "trainer=default,cpu"],
        [*PACKS, "hydra/launcher=basic", "hydra/sweeper=basic", "hydra/job_logging=disabled"],
        [*PACKS, "~experiment", "debug=fast_dev_run", "hydra.run.dir=x", "--cfg", "job"],
    ],
)
def test_what_exists_passes(index, argv) -> None:
    check_overrides("train", argv, index)


@pytest.mark.parametrize(
    "argv",
    [
        ["model=tinny", "data=tiny_images"],
        ["-m", "model=tiny,tinny", "data=tiny_images"],
        ["-m", "model=choice(tiny,tinny)", "data=tiny_images"],
        ["--cfg", "job", "+model=tinny"],
        ["--info", "defaults", "~model=tinny"],
    ],
)
def test_an_unknown_option_anywhere_is_refused(index, argv) -> None:
    assert refused(index, *argv) == (
        "Unknown model option 'tinny'. Did you mean 'tiny'? Available: tiny (acme-models)"
    )


def test_a_null_option_names_the_deletion(index) -> None:
    message = refused(index, *PACKS, "experiment=null")
    assert message == "experiment=null: to leave the experiment option out, use ~experiment"


def test_hydras_own_groups_list_hydras_options(index) -> None:
    message = refused(index, *PACKS, "hydra/launcher=basik")
    assert message.startswith("Unknown hydra/launcher option 'basik'. Did you mean 'basic'?")
    assert "basic (hydra)" in message and "slurm (pegboard-core)" in message
    assert "Unknown hydra/job_logging option" in refused(index, "hydra/job_logging=nope")


@pytest.mark.parametrize(
    ("override", "extra"),
    [
        ("hydra/launcher=slurm", "submitit"),  # core's option: its defaults select the plugin
        ("hydra/launcher=submitit_local", "submitit"),
        ("hydra/launcher=joblib", "joblib"),
        ("hparams_search=digits_optuna", "optuna"),  # selects the Optuna sweeper
    ],
)
def test_a_plugin_that_is_not_installed_names_its_extra(index, monkeypatch, override, extra):
    monkeypatch.setitem(HYDRA_PLUGIN_MODULES, extra, NOT_INSTALLED)
    assert refused(index, *PACKS, override) == (
        f"{override} needs a Hydra plugin that is not installed. "
        f"To fix: pip install pegboard-core[{extra}]"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [*PACKS, "trainer.max_epoch=3"],
            "Unknown config key 'trainer.max_epoch'. Did you mean 'trainer.max_epochs'? "
            "To add a new key on purpose, use +trainer.max_epoch=3",
        ),
        ([*PACKS, "modle.width=3"], "Unknown config key 'modle.width'. To add"),
        ([*PACKS, "sed=1"], "Unknown config key 'sed'. Did you mean 'seed'? To add"),
        (
            ["-m", *PACKS, "trainer.max_epoch=1,2"],
            "Unknown config key 'trainer.max_epoch'. Did you mean 'trainer.max_epochs'? "
            "To add a new key on purpose, use +trainer.max_epoch=1,2",
        ),
        (
            [*PACKS, "~trainer.max_epoch"],
            "Unknown config key 'trainer.max_epoch'. Did you mean 'trainer.max_epochs'? "
            "~trainer.max_epoch deletes only a key that the config has",
        ),
        ([*PACKS, "hydra.run.dri=x", "--cfg", "job"], "Did you mean 'hydra.run.dir'?"),
    ],
)
def test_an_unknown_key_is_refused(index, argv, message) -> None:
    assert message in refused(index, *argv)


def test_a_swept_key_that_a_swept_group_may_bring_is_left_to_each_job(index) -> None:
    check_overrides("train", ["-m", *PACKS, "trainer=default,cpu", "trainer.brand_new=1,2"], index)


def test_another_composition_error_is_hydras_own(index) -> None:
    from hydra.errors import ConfigCompositionException

    # Not an unknown key: a key that is already there cannot be added with +.
    with pytest.raises(ConfigCompositionException):
        check_overrides("train", [*PACKS, "+seed=3", "trainer.max_epochs=2"], index)


def test_an_option_of_the_config_dir_is_known(index, tmp_path: Path) -> None:
    (tmp_path / "extra" / "model").mkdir(parents=True)
    (tmp_path / "extra" / "model" / "wide.yaml").write_text("width: 3\n")
    check_overrides("train", ["--config-dir", str(tmp_path / "extra"), "model=wide"], index)


def test_the_keys_and_cores_check_compose_once(index, monkeypatch) -> None:
    import hydra

    from pegboard.runner.app import CONFIG_MODULE
    from pegboard.runner.precheck import check_command_config, composing_once

    compose = hydra.compose
    calls = []
    monkeypatch.setattr(hydra, "compose", lambda *a, **k: calls.append(a) or compose(*a, **k))
    argv = [*PACKS, "trainer.max_epochs=2"]
    with composing_once():
        check_overrides("train", argv, index)
        check_command_config(CONFIG_MODULE, "train", argv, values=False)
    assert len(calls) == 1
    check_command_config(CONFIG_MODULE, "train", argv, values=False)  # outside: afresh
    assert len(calls) == 2


def test_a_missing_option_found_by_hydra_is_named_from_its_path(pack_dir, capsys) -> None:
    # No packs: a default of the primary config (model: cnn, data: digits) is missing.
    assert main(["train"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("pegboard: error: No 'model' and 'data' options are installed (")
    assert err[-1].endswith("To fix: pip install pegboard-models-vision pegboard-data-vision")


def test_global_hydra_is_never_cleared(working_packs, monkeypatch, capsys) -> None:
    from hydra.core.global_hydra import GlobalHydra

    cleared = []
    monkeypatch.setattr(GlobalHydra, "clear", lambda self: cleared.append(self))
    assert main(["train", *TINY_RUN, "trainer.max_epoch=3"]) == 2
    assert "Did you mean 'trainer.max_epochs'?" in capsys.readouterr().err
    assert cleared == [] and not GlobalHydra.instance().is_initialized()


# Through the installed command, as a user types it.


@pytest.mark.parametrize(
    ("override", "extra", "shown"),
    [
        ("hydra/launcher=slurm", "submitit", "hydra_submitit_launcher"),
        ("hydra/launcher=joblib", "joblib", "hydra_joblib_launcher"),
        ("hparams_search=digits_optuna", "optuna", "hydra_optuna_sweeper"),
    ],
)
def test_a_hydra_plugin_needs_its_extra(working_packs, override, extra, shown) -> None:
    if plugin_installed(extra):
        result = pegboard("train", *PACKS, override, "--cfg", "hydra")
        assert result.returncode == 0, result.stderr
        assert shown in result.stdout
        return
    result = pegboard("train", *TINY_RUN, override)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"pegboard: error: {override} needs a Hydra plugin that is not installed. "
        f"To fix: pip install pegboard-core[{extra}]"
    ]
    assert not (Path.cwd() / "logs").exists()


def test_an_unknown_option_in_a_sweep_is_refused_before_any_job(working_packs) -> None:
    result = pegboard("train", "-m", *TINY_RUN[1:], "model=tiny,nope")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("pegboard: error: Unknown model option 'nope'. Available: ")
    assert "tiny (acme-models)" in line
    assert not (Path.cwd() / "logs").exists()


def test_cfg_job_refuses_an_unknown_key_alike(working_packs) -> None:
    result = pegboard("train", "--cfg", "job", *PACKS, "trainer.max_epoch=3")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "pegboard: error: Unknown config key 'trainer.max_epoch'. Did you mean "
        "'trainer.max_epochs'? To add a new key on purpose, use +trainer.max_epoch=3"
    ]


def test_what_hydra_finds_missing_is_named_by_its_path_not_its_wording(index) -> None:
    from hydra.errors import MissingConfigException

    from pegboard_launcher.reporting import explain

    def explained(path: str, text: str = "any wording") -> str:
        return explain(MissingConfigException(text, missing_cfg_file=path), [], "train", index)

    assert explained("hydra/launcher/submitit_slurm") == (
        "hydra/launcher=submitit_slurm needs a Hydra plugin that is not installed. "
        "To fix: pip install pegboard-core[submitit]"
    )
    assert explained("model/tinny").startswith("Unknown model option 'tinny'. Did you mean 'tiny'?")
    assert explained("x", "Cannot find primary config 'x'\nConfig search path:\n\tpkg://a") == (
        "Cannot find primary config 'x'"
    )
