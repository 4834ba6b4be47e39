"""Configs, overrides and checkpoints are data: every way the audit found to run code is refused.

Each attack plants a marker file if it runs. A refusal is one line, exit 2, before any
run directory is made (or, for a checkpoint, before anything from it is built).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from launcher_helpers import TINY_RUN
from launcher_helpers import run_pegboard as pegboard

from pegboard_launcher.cli import main

MARK = "MARK"


def _source(marker: Path) -> str:
    return f"open('{marker}', 'w').write('ran')"


def refused(capsys, *args: str, expect: str) -> str:
    """Run ``pegboard *args`` in-process; it must exit 2 with one line holding ``expect``."""
    code = main(list(args))
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert expect in err, err
    assert len(err.splitlines()) == 1, err
    assert not (Path.cwd() / MARK).exists()
    return err


ATTACKS = {
    "+callbacks.x._target_=torch.save": "callbacks.x._target_='torch.save' is refused",
    "+model.optimizer._target_=torch.fx.graph_module._exec_with_source": (
        "model.optimizer._target_='torch.fx.graph_module._exec_with_source' is refused"
    ),
    "+logger.x._target_=torch._inductor.cpp_builder.run_compile_cmd": (
        "logger.x._target_='torch._inductor.cpp_builder.run_compile_cmd' is refused"
    ),
    "+trainer.plugins=[{_target_:torch.ops.load_library,path:x}]": (
        "trainer.plugins[0]._target_='torch.ops.load_library' is refused"
    ),
    "+hydra.callbacks.e._target_=torch._inductor.cpp_builder.run_compile_cmd": (
        "hydra.callbacks.e._target_='torch._inductor.cpp_builder.run_compile_cmd' is refused"
    ),
    "+hydra.job.env_set.PEGBOARD_ALLOW_TARGETS=torch": "hydra.job.env_set.PEGBOARD_ALLOW_TARGETS",
    "+hydra.job.env_set.LD_PRELOAD=/tmp/x.so": "hydra.job.env_set.LD_PRELOAD is refused",
    "hydra.job_logging.handlers.file.filename=/tmp/pegboard-outside.log": (
        "a log file must be a plain name inside the run directory"
    ),
    "hydra.job_logging.handlers.console.stream=ext://os.system": "ext://os.system",
    "task_name=../../outside": "hydra.job.name='../../outside' must be a plain file name",
    "+hydra.launcher.setup=[touch MARK]": "these lines run in a shell",
    "+hydra.sweeper.custom_search_space=os.system": (
        "hydra.sweeper.custom_search_space='os.system' is refused"
    ),
}


@pytest.mark.parametrize("override", ATTACKS)
def test_an_override_that_would_run_code_is_refused_before_the_run(working_packs, capsys, override):
    refused(capsys, "train", *TINY_RUN, override, expect=ATTACKS[override])
    assert not (Path.cwd() / "logs").exists()  # no run folder was made


@pytest.mark.parametrize("command", ["train", "eval"])
def test_hydra_callbacks_are_checked_before_hydra_builds_them(working_packs, tmp_path, command):
    # Hydra builds hydra.callbacks before the job, even for an eval missing its ckpt_path.
    choices = TINY_RUN[:2] if command == "train" else ()  # the test packs' model and data
    result = pegboard(
        command,
        *choices,
        "+hydra.callbacks.e._target_=torch._inductor.cpp_builder.run_compile_cmd",
        f"+hydra.callbacks.e.cmd_line=touch {tmp_path / MARK}",
    )
    assert result.returncode == 2, result.stderr
    assert "hydra.callbacks.e._target_=" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / MARK).exists()


def test_a_project_logging_config_with_a_factory_is_refused(working_packs, capsys) -> None:
    folder = Path.cwd() / "configs" / "hydra" / "job_logging"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text(
        "version: 1\nformatters:\n  f:\n    (): torch.fx.graph_module._exec_with_source\n"
        f'    src: "{_source(Path.cwd() / MARK)}"\n'
    )
    refused(
        capsys,
        "train",
        *TINY_RUN,
        "hydra/job_logging=evil",
        expect="hydra.job_logging.formatters.f.()='torch.fx.graph_module._exec_with_source'",
    )


def test_a_file_in_the_project_does_not_unlock_the_stdlib_module(working_packs, capsys) -> None:
    (Path.cwd() / "test.py").write_text("")
    refused(
        capsys,
        "train",
        *TINY_RUN,
        "+callbacks.x._target_=test.support.script_helper.run_python_until_end",
        expect="is refused",
    )


def test_a_sweep_over_hydra_settings_is_refused(working_packs, capsys) -> None:
    refused(
        capsys,
        "train",
        "--multirun",
        *TINY_RUN,
        "hydra.job.chdir=true,false",
        expect="Hydra's own settings cannot be swept over",
    )


def test_project_classes_and_allowed_additions_still_run(working_packs, capsys) -> None:
    (Path.cwd() / "stopper.py").write_text(
        "import pytorch_lightning as pl\n\nclass Noop(pl.Callback):\n    pass\n"
    )
    assert main(["train", *TINY_RUN, "+callbacks.noop._target_=stopper.Noop"]) == 0


def test_export_writes_only_inside_its_run_directory(working_packs, capsys) -> None:
    assert main(["train", *TINY_RUN]) == 0
    capsys.readouterr()
    refused(capsys, "export", "ckpt_path=best", "name=../../x", expect="name='../../x' must be")
    assert not list(Path.cwd().rglob("x.pt"))


@pytest.fixture
def checkpoint(working_packs, capsys) -> Path:
    """A real checkpoint of the tiny packs, trained through the command."""
    assert main(["train", *TINY_RUN]) == 0
    capsys.readouterr()
    (path,) = (Path.cwd() / "logs").rglob("epoch_*.ckpt")
    return path


def _tamper(path: Path, change) -> None:
    import torch

    from pegboard.runner.metadata import CHECKPOINT_KEY

    state = torch.load(path, map_location="cpu", weights_only=True)
    change(state, state[CHECKPOINT_KEY]["config"])
    torch.save(state, path)


def _exec_node(marker: Path) -> dict:
    return {"_target_": "torch.fx.graph_module._exec_with_source", "src": _source(marker)}


TAMPERING = {
    "data.augment": (
        lambda state, config: config["data"].update(augment=_exec_node(Path.cwd() / MARK)),
        "its stored data.augment._target_='torch.fx.graph_module._exec_with_source' is refused",
    ),
    "data": (
        lambda state, config: config.update(
            data={"_target_": "torch.save", "obj": 1, "f": str(Path.cwd() / MARK)}
        ),
        "its stored data._target_='torch.save' is refused",
    ),
    "model": (
        lambda state, config: config["model"].update(_target_="torch.nn.Linear"),
        "model._target_='torch.nn.Linear' is not a model class that an active pack",
    ),
    "hyper_parameters": (
        lambda state, config: state["hyper_parameters"].update(
            optimizer=_exec_node(Path.cwd() / MARK)
        ),
        "hyper_parameters.optimizer._target_=",
    ),
}


@pytest.mark.parametrize("command", ["eval", "predict", "export"])
@pytest.mark.parametrize("where", TAMPERING)
def test_a_tampered_checkpoint_is_refused_with_nothing_built(checkpoint, capsys, command, where):
    change, expect = TAMPERING[where]
    _tamper(checkpoint, change)
    err = refused(capsys, command, f"ckpt_path={checkpoint}", expect=expect)
    assert f"ckpt_path={checkpoint} is refused (nothing from it was built)" in err
