"""Mistakes that used to end in a traceback: one line, exit 2, before training where possible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from launcher_helpers import TINY_RUN

from pegboard_launcher.cli import main


def _error(capsys, *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


ADAMW = ["+model.optimizer._target_=torch.optim.AdamW", "+model.optimizer._partial_=true"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["seed=-1"], "seed=-1 must be a whole number from 0 to 4294967295"),
        (["seed=1e20"], "seed=1e+20 must be a whole number"),
        (["trainer.max_epochs=-0.5"], "trainer.max_epochs=-0.5: expected int or None, got float"),
        ([*ADAMW, "+model.optimizer.lr=nan"], "model.optimizer.lr=nan is not a number"),
    ],
)
def test_refused_before_any_run_folder(working_packs, capsys, overrides, message) -> None:
    line = _error(capsys, "train", *TINY_RUN, *overrides)
    assert line.startswith(f"pegboard: error: {message}")
    assert not (Path.cwd() / "logs").exists()


def test_a_log_folder_that_is_a_file(working_packs, capsys, monkeypatch, tmp_path) -> None:
    (tmp_path / "taken").write_text("")
    monkeypatch.setenv("PEGBOARD_LOG_DIR", str(tmp_path / "taken"))
    line = _error(capsys, "train", *TINY_RUN)
    assert line.endswith(f"{tmp_path / 'taken'} is a file; runs need a folder there")


def test_a_config_file_that_is_not_yaml(working_packs, capsys) -> None:
    folder = Path.cwd() / "configs" / "model"
    folder.mkdir(parents=True)
    (folder / "broken.yaml").write_text("_target_: x\n  bad: [\n")
    line = _error(capsys, "train", *TINY_RUN, "model=broken")
    assert line.startswith("pegboard: error: a config file is not valid YAML: ")
    assert "broken.yaml" in line and "line 2" in line


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            [*ADAMW, "+model.optimizer.betas=[0.9,1.5]"],
            "model.optimizer / model.scheduler cannot be built: ValueError: Invalid beta",
        ),
        (["+trainer.limit_val_batches=0.001"], "Please increase the `limit_val_batches` argument"),
        (
            ["+trainer.limit_val_batches=0"],
            "monitors 'val/loss', but this run has no validation data",
        ),
    ],
)
def test_known_before_training_is_one_line_and_the_run_marked(
    working_packs, capsys, overrides, message
) -> None:
    line = _error(capsys, "train", *TINY_RUN, *overrides)
    assert line.startswith("pegboard: error: ") and message in line
    (status,) = (Path.cwd() / "logs").rglob("status.json")
    recorded = json.loads(status.read_text())
    assert recorded["status"] == "failed"
    assert not list((Path.cwd() / "logs").rglob("*.ckpt"))  # stopped before an epoch ended


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "+data.input_shape=[1,8,8]",
            "LinearClassifier cannot take the inputs of "
            "pegboard.testing.datamodule.RandomImageDataModule, which are [1, 8, 8] "
            "(it was built for input_shape [1, 4, 4])",
        ),
        ("+data.num_classes=5", "has 5 classes, but LinearClassifier was built for 3"),
    ],
)
def test_eval_on_data_the_model_cannot_take(working_packs, capsys, change, message) -> None:
    assert main(["train", *TINY_RUN, "plots=false"]) == 0
    capsys.readouterr()
    line = _error(capsys, "eval", "ckpt_path=best", change)
    assert message in line


@pytest.mark.parametrize(
    "overrides", [["seed=-1"], ["+trainer.limit_val_batches=0"]], ids=["before", "in-job"]
)
def test_pegboard_traceback_adds_the_traceback(working_packs, monkeypatch, overrides) -> None:
    from pegboard.errors import ConfigError

    monkeypatch.setenv("PEGBOARD_TRACEBACK", "1")
    with pytest.raises(ConfigError) as error:
        main(["train", *TINY_RUN, *overrides])
    assert error.traceback  # the whole chain, for a bug report
