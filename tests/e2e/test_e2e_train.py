"""`pegboard train` with the vision packs installed, run as users run it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from conftest import QUICK, metrics_of, run_dir_of


def test_default_train_reaches_97_percent_and_fills_the_run_directory(run_pegboard) -> None:
    result = run_pegboard("train")
    assert result.returncode == 0, result.stderr
    # Output to a pipe, not a terminal: one line per epoch instead of a progress bar.
    assert "epoch 1/30  " in result.stdout and "it/s" not in result.stdout
    accuracy = float(result.stdout.split("Test accuracy: ")[1].split()[0])
    assert accuracy >= 0.97

    run_dir = run_dir_of(result)
    assert round(metrics_of(run_dir)["test/acc"], 4) == accuracy  # printed to 4 places
    assert "_target_: pegboard_models_vision.cnn.CNN" in (run_dir / "config.yaml").read_text()
    packs = json.loads((run_dir / "packs.json").read_text())
    assert {"pegboard-core", "pegboard-models-vision", "pegboard-data-vision"} <= set(packs)
    assert (
        (run_dir / "csv" / "metrics.csv")
        .read_text()
        .startswith(("epoch", "step", "lr", "test", "train", "val"))
    )
    (best,) = (run_dir / "checkpoints").glob("epoch_*.ckpt")
    checkpoint = torch.load(best, map_location="cpu", weights_only=True)
    assert checkpoint["pegboard"]["packs"] == packs
    assert checkpoint["pegboard"]["config"]["data"]["_target_"].endswith("DigitsDataModule")
    assert json.loads((run_dir / "status.json").read_text())["status"] == "completed"


def test_same_seed_same_accuracy_and_overrides_apply(run_pegboard) -> None:
    args = (
        "train",
        "model=mlp",
        "trainer.max_epochs=3",
        "model.optimizer.lr=0.01",
        "seed=1",
        *QUICK[1:],
    )
    first, second = run_pegboard(*args), run_pegboard(*args)
    assert first.returncode == second.returncode == 0, first.stderr
    assert metrics_of(run_dir_of(first)) == metrics_of(run_dir_of(second))
    config = (run_dir_of(first) / "config.yaml").read_text()
    assert "lr: 0.01" in config and "max_epochs: 3" in config and "seed: 1" in config
    assert run_dir_of(first) != run_dir_of(second)  # never the same folder twice


def test_tensorboard_logger(run_pegboard) -> None:
    result = run_pegboard("train", "logger=tensorboard", "test=false", *QUICK)
    assert result.returncode == 0, result.stderr
    assert list((run_dir_of(result) / "tensorboard").glob("events.out.tfevents.*"))


def test_plugins_lists_the_vision_packs(run_pegboard) -> None:
    result = run_pegboard("plugins", "--json")
    packs = {pack["name"]: pack for pack in json.loads(result.stdout)["packs"]}
    assert {"cnn", "mlp"} <= set(packs["pegboard-models-vision"]["options"]["model"])
    assert "digits" in packs["pegboard-data-vision"]["options"]["data"]
    assert packs["pegboard-models-vision"]["models"]["cnn"] == "pegboard_models_vision.cnn:CNN"


def test_train_help_names_each_option_and_its_pack(run_pegboard) -> None:
    lines = [line.split() for line in run_pegboard("train", "--help").stdout.splitlines()]
    assert ["cnn", "*", "pegboard-models-vision"] in lines
    assert ["mlp", "pegboard-models-vision"] in lines
    assert ["digits", "*", "pegboard-data-vision"] in lines


def test_unknown_model_lists_what_the_packs_offer(run_pegboard) -> None:
    result = run_pegboard("train", "model=resnt")
    assert result.returncode == 2
    assert "Unknown model option 'resnt'." in result.stderr
    assert "Available: cnn, " in result.stderr
    assert "mlp, " in result.stderr and "(pegboard-models-vision)" in result.stderr
    assert "Traceback" not in result.stderr


def test_ddp_relaunch_finds_the_packs_and_writes_one_run(run_pegboard, tmp_path: Path) -> None:
    result = run_pegboard("train", "trainer=ddp_cpu", "debug=fast_dev_run", *QUICK[1:])
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "logs" / "train" / "runs").iterdir())) == 1


def test_multirun_runs_each_combination(run_pegboard, tmp_path: Path) -> None:
    result = run_pegboard("train", "--multirun", "model=mlp,cnn", "debug=fast_dev_run", *QUICK[1:])
    assert result.returncode == 0, result.stderr
    statuses = sorted((tmp_path / "logs" / "train" / "multiruns").rglob("status.json"))
    assert len(statuses) == 2
    assert all(json.loads(path.read_text())["status"] == "completed" for path in statuses)
