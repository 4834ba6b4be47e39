"""Regression end to end on the kit's values: train, eval, predict, export, plots, task fit."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard.runner.evaluate import evaluate
from pegboard.runner.export import export
from pegboard.runner.plots import CONFUSION_MATRIX, PREDICTED_VS_TRUE, RESIDUALS
from pegboard.runner.predict import predict
from pegboard.runner.train import train
from pegboard.tasks.objectives import RegressionObjective
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.models import LinearRegressor

QUICK = [
    "model=kit_regressor",
    "data=kit_values",
    "trainer.max_epochs=15",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
    "~callbacks.early_stopping",
]
STAGE = ["trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("train") / "run"
    with compose_config(QUICK, [KIT_CONFIGS], run_dir) as cfg:
        train(cfg)
    return run_dir


def _best(run_dir: Path) -> Path:
    return next((run_dir / "checkpoints").glob("epoch_*.ckpt"))


def test_regression_logs_loss_mae_rmse_and_r2_and_draws_its_plots(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    for stage in ("train", "val", "test"):
        assert {f"{stage}/{name}" for name in ("loss", "mae", "rmse", "r2")} <= set(metrics)
    assert "test/acc" not in metrics
    # Values around 50 with a spread of 10, a linear function of the inputs: a linear
    # model that learns the target scale explains nearly all of it.
    assert metrics["test/r2"] > 0.9
    assert metrics["test/mae"] < 3.0
    assert (trained / PREDICTED_VS_TRUE).stat().st_size > 0
    assert (trained / RESIDUALS).stat().st_size > 0
    assert not (trained / CONFUSION_MATRIX).exists()


def test_the_target_scale_is_learned_from_the_data_and_saved(trained: Path) -> None:
    model = LinearRegressor.load_from_checkpoint(_best(trained), weights_only=True)
    assert abs(float(model.target_scale.mean) - 50.0) < 5.0
    assert 5.0 < float(model.target_scale.std) < 15.0
    assert model.task == "regression" and model.num_classes is None


def test_eval_of_a_regression_checkpoint_gives_the_test_r2_of_train(
    trained: Path, tmp_path: Path
) -> None:
    overrides = [f"ckpt_path={_best(trained)}", *STAGE]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="eval") as cfg:
        metrics = evaluate(cfg)
    trained_metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["test/r2"] == pytest.approx(trained_metrics["test/r2"], abs=1e-6)


def test_predict_writes_values_not_classes(trained: Path, tmp_path: Path) -> None:
    overrides = [f"ckpt_path={_best(trained)}", *STAGE]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="predict") as cfg:
        path = predict(cfg)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 64
    assert list(rows[0]) == ["index", "prediction"]
    assert 20.0 < float(rows[0]["prediction"]) < 80.0


def test_export_sidecar_says_the_outputs_are_values(trained: Path, tmp_path: Path) -> None:
    overrides = [f"ckpt_path={_best(trained)}", "format=torchscript"]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="export") as cfg:
        artifact = export(cfg)
    sidecar = json.loads(artifact.with_name(artifact.name + ".json").read_text())
    assert sidecar["task"] == "regression" and sidecar["num_outputs"] == 1
    assert "class_names" not in sidecar
    # The artifact answers in the data's units: its TargetScale was exported with it.
    scripted = torch.jit.load(str(artifact))
    assert 20.0 < float(scripted(torch.zeros(2, 8)).mean()) < 80.0


def test_a_classifier_on_values_is_refused_before_it_is_built(tmp_path: Path) -> None:
    overrides = ["model=kit_linear", "data=kit_values", *STAGE]
    with (
        compose_config(overrides, [KIT_CONFIGS], tmp_path / "run") as cfg,
        pytest.raises(ConfigError) as refused,
    ):
        train(cfg)
    message = str(refused.value)
    assert "\n" not in message
    assert "does classification" in message and "regression task" in message
    assert "inputs [8] -> 1 value" in message


def test_r2_from_sums_matches_the_definition() -> None:
    objective = RegressionObjective(2)
    predicted = torch.tensor([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0]])
    true = torch.tensor([[1.5, 2.0], [2.0, 2.0], [2.5, 4.0], [4.5, 3.0]])
    # Two batches, summed as an epoch does.
    sums = objective.batch_sums(torch.tensor(0.0), predicted[:3], true[:3])
    sums = sums + objective.batch_sums(torch.tensor(0.0), predicted[3:], true[3:])
    metrics = objective.metrics(sums.tolist(), 4.0)
    expected = []
    for column in range(2):
        error = ((predicted[:, column] - true[:, column]) ** 2).sum()
        spread = ((true[:, column] - true[:, column].mean()) ** 2).sum()
        expected.append(float(1 - error / spread))
    assert metrics["r2"] == pytest.approx(sum(expected) / 2)
    assert metrics["mae"] == pytest.approx(float((predicted - true).abs().mean()))
    assert metrics["rmse"] == pytest.approx(float(((predicted - true) ** 2).mean().sqrt()))
