"""The tabular pack through the ``pegboard`` command: targets, CSV files, task refusal."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from conftest import QUICK, metrics_of, run_dir_of

Run = Callable[..., CompletedProcess[str]]
#: A checkpoint `pegboard train model=cnn data=digits` wrote on pegboard 0.1.
OLD_CNN = Path(__file__).parent / "data" / "pegboard-0.1-cnn-digits.ckpt"


@pytest.mark.parametrize(
    ("data", "metric", "least"),
    [("breast_cancer", "test/acc", 0.95), ("diabetes", "test/r2", 0.40)],
)
def test_the_defaults_reach_their_target_with_no_other_argument(
    run_pegboard: Run, data: str, metric: str, least: float
) -> None:
    result = run_pegboard("train", "model=tabular_mlp", f"data={data}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics_of(run_dir_of(result))[metric] >= least
    summary = "Test accuracy: " if metric == "test/acc" else "Test R²: "
    assert summary in result.stdout


def test_a_classifier_on_regression_data_is_refused_in_one_line_before_a_run_folder(
    run_pegboard: Run, tmp_path: Path
) -> None:
    result = run_pegboard("train", "model=cnn", "data=diabetes")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "model=cnn (CNN) does classification" in lines[0]
    assert "data=diabetes is a regression task (inputs [10] -> 1 value)" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "logs" / "train" / "runs").exists()


def _houses(path: Path, rows: int, seed: int, with_target: bool = True) -> None:
    """Houses with a string column, missing numbers and missing strings; price is learnable."""
    generator = random.Random(seed)
    cities = ["paris", "lyon", "nice"]
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["area", "rooms", "city", "age", *(["price"] if with_target else [])])
        for index in range(rows):
            area = generator.uniform(20, 200)
            rooms = generator.randint(1, 6)
            city = cities[index % 3] if index % 7 else ""  # some missing
            age = "" if index % 5 == 0 else f"{generator.uniform(0, 80):.1f}"
            price = 3.0 * area + 10 * rooms + {"paris": 200, "lyon": 80, "nice": 120, "": 100}[city]
            price += generator.gauss(0, 10)
            writer.writerow(
                [f"{area:.1f}", rooms, city, age, *([f"{price:.1f}"] if with_target else [])]
            )


def test_a_csv_with_strings_and_missing_values_trains_predicts_a_new_csv_and_exports(
    run_pegboard: Run, tmp_path: Path
) -> None:
    _houses(tmp_path / "houses.csv", 300, seed=0)
    train = run_pegboard(
        "train",
        "model=tabular_mlp",
        "data=csv",
        "data.path=houses.csv",
        "data.target=price",
        *QUICK,
        "trainer.max_epochs=20",
    )
    assert train.returncode == 0, train.stderr[-3000:]
    run_dir = run_dir_of(train)
    assert metrics_of(run_dir)["test/r2"] > 0.5
    recorded = (run_dir / "config.yaml").read_text()
    assert "task: regression" in recorded  # described by the data, then recorded
    checkpoint = run_dir / "checkpoints" / "last.ckpt"

    new = tmp_path / "new.csv"
    _houses(new, 12, seed=1, with_target=False)
    with new.open("a") as file:
        file.write("55.0,2,berlin,\n")  # a city never seen in training, a missing age
    predicted = run_pegboard("predict", f"ckpt_path={checkpoint}", f"input={new}")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    out = Path(predicted.stdout.split("Predictions: ")[1].split(" (")[0])
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 13
    assert list(rows[0]) == ["index", "area", "rooms", "city", "age", "prediction"]
    assert rows[-1]["city"] == "berlin" and float(rows[-1]["prediction"]) > 0

    exported = run_pegboard("export", f"ckpt_path={checkpoint}", "format=onnx")
    assert exported.returncode == 0, exported.stderr[-3000:]
    (onnx,) = Path(exported.stdout.split("Exported onnx: ")[1].split(" (")[0]).parent.glob("*.onnx")
    sidecar = json.loads(onnx.with_name(onnx.name + ".json").read_text())
    assert sidecar["task"] == "regression" and sidecar["data_state"]


def test_a_csv_of_string_classes_predicts_class_names(run_pegboard: Run, tmp_path: Path) -> None:
    generator = random.Random(0)
    with (tmp_path / "flowers.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["length", "colour", "kind"])
        for index in range(200):
            length = generator.uniform(0, 10)
            writer.writerow(
                [f"{length:.2f}", ["red", "blue"][index % 2], "big" if length > 5 else "small"]
            )
    train = run_pegboard(
        "train",
        "model=tabular_mlp",
        "data=csv",
        "data.path=flowers.csv",
        "data.target=kind",
        *QUICK,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    checkpoint = run_dir_of(train) / "checkpoints" / "last.ckpt"
    predicted = run_pegboard("predict", f"ckpt_path={checkpoint}", "input=flowers.csv")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    out = Path(predicted.stdout.split("Predictions: ")[1].split(" (")[0])
    rows = list(csv.DictReader(out.open()))
    assert {"prob_big", "prob_small"} <= set(rows[0])
    assert {row["class_name"] for row in rows} <= {"big", "small"}


def test_a_checkpoint_of_pegboard_0_1_evaluates_predicts_and_exports_as_before(
    run_pegboard: Run,
) -> None:
    evaluated = run_pegboard("eval", f"ckpt_path={OLD_CNN}")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    # What `pegboard eval` printed for this file on pegboard 0.1.
    assert metrics_of(run_dir_of(evaluated))["test/acc"] == pytest.approx(0.3537604510784149)
    predicted = run_pegboard("predict", f"ckpt_path={OLD_CNN}")
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    exported = run_pegboard("export", f"ckpt_path={OLD_CNN}", "format=torchscript")
    assert exported.returncode == 0, exported.stderr[-3000:]


def test_pegboard_plugins_lists_the_tabular_pack(run_pegboard: Run) -> None:
    listed = run_pegboard("plugins")
    assert listed.returncode == 0, listed.stderr
    assert "pegboard-tabular" in listed.stdout
    for option in ("tabular_mlp", "ft_transformer", "breast_cancer", "diabetes", "csv"):
        assert option in listed.stdout


def test_a_classifier_on_a_csv_of_values_is_refused_once_the_file_is_read(
    run_pegboard: Run, tmp_path: Path
) -> None:
    _houses(tmp_path / "houses.csv", 60, seed=0)
    result = run_pegboard(
        "train", "model=cnn", "data=csv", "data.path=houses.csv", "data.target=price"
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "data=csv is a regression task (inputs [7] -> 1 value)" in lines[0]
