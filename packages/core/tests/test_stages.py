"""eval, predict and export as Python functions on the kit's model and data; plots; summary."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard.runner.evaluate import evaluate
from pegboard.runner.export import export
from pegboard.runner.plots import CONFUSION_MATRIX, LEARNING_CURVES, TestResults, write_plots
from pegboard.runner.predict import predict
from pegboard.runner.sweep import SUMMARY_FILE, write_summary
from pegboard.runner.train import train
from pegboard.testing.compose import KIT_CONFIGS, compose_config

QUICK = [
    "model=kit_linear",
    "data=kit_images",
    "trainer.max_epochs=2",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
    "print_config=false",
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


def test_train_writes_plots(trained: Path) -> None:
    for name in (LEARNING_CURVES, CONFUSION_MATRIX):
        assert (trained / name).read_bytes().startswith(b"\x89PNG")


def test_eval_reproduces_the_test_metric_of_train(trained: Path, tmp_path: Path) -> None:
    overrides = [f"ckpt_path={_best(trained)}", *STAGE]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="eval") as cfg:
        metrics = evaluate(cfg)
    assert metrics["test/acc"] == json.loads((trained / "metrics.json").read_text())["test/acc"]
    assert json.loads((tmp_path / "status.json").read_text())["status"] == "completed"
    stored = (tmp_path / "config.yaml").read_text()
    assert "LinearClassifier" in stored and "RandomImageDataModule" in stored


def test_eval_refuses_another_model_class_and_a_missing_file(trained: Path, tmp_path: Path) -> None:
    other = [f"ckpt_path={_best(trained)}", "+model._target_=acme.Net", *STAGE]
    with (
        compose_config(other, [KIT_CONFIGS], tmp_path, config_name="eval") as cfg,
        pytest.raises(ConfigError, match=r"holds a pegboard\.testing\.models\.LinearClassifier"),
    ):
        evaluate(cfg)
    missing = [f"ckpt_path={tmp_path / 'nope.ckpt'}", *STAGE]
    with (
        compose_config(missing, [KIT_CONFIGS], tmp_path / "b", config_name="eval") as cfg,
        pytest.raises(ConfigError, match="no such file"),
    ):
        evaluate(cfg)
    assert json.loads((tmp_path / "b" / "status.json").read_text())["status"] == "failed"


def test_predict_writes_one_row_per_input(trained: Path, tmp_path: Path) -> None:
    overrides = [f"ckpt_path={_best(trained)}", "output_format=json", *STAGE]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="predict") as cfg:
        path = predict(cfg)
    payload = json.loads(path.read_text())
    rows = payload["predictions"]
    first = f"prob_{payload['class_names'][0]}"
    assert len(rows) > 0 and set(rows[0]) >= {"index", "prediction", "class_name", first}
    assert rows[0]["class_name"] == payload["class_names"][rows[0]["prediction"]]
    assert abs(sum(v for k, v in rows[0].items() if k.startswith("prob_")) - 1) < 1e-4


@pytest.mark.parametrize("fmt", ["torchscript", "safetensors"])
def test_export_writes_a_verified_artifact_and_its_sidecar(
    trained: Path, tmp_path: Path, fmt: str
) -> None:
    if fmt == "safetensors":
        pytest.importorskip("safetensors")
    overrides = [f"ckpt_path={_best(trained)}", f"format={fmt}"]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="export") as cfg:
        path = export(cfg)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["input_shape"] == [1, 8, 8] and sidecar["format"] == fmt
    assert sidecar["checkpoint"] == str(_best(trained).resolve())
    assert "pegboard-core" in sidecar["packs"]
    if fmt == "torchscript":
        module = torch.jit.load(str(path))
        assert module(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_unknown_export_format_lists_the_valid_ones(tmp_path: Path) -> None:
    overrides = ["ckpt_path=x.ckpt", "format=tflite"]
    with (
        compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="export") as cfg,
        pytest.raises(ConfigError, match="choose one of: torchscript, onnx, safetensors"),
    ):
        export(cfg)


def test_plots_without_data_write_nothing_and_with_data_write_pngs(tmp_path: Path) -> None:
    assert write_plots(tmp_path, []) == []
    epochs = [{"epoch": 0.0, "train/loss": 1.0, "val/loss": 0.9, "val/acc": 0.5}]
    written = write_plots(tmp_path, epochs, TestResults([[3, 1], [0, 4]], ["cat", "dog"]))
    assert sorted(p.name for p in written) == sorted([LEARNING_CURVES, CONFUSION_MATRIX])


def test_multirun_summary_lists_every_job(tmp_path: Path) -> None:
    for job, (lr, acc, status) in enumerate([("0.1", 0.9, "completed"), ("0.2", None, "failed")]):
        folder = tmp_path / str(job)
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text(f"- model.lr={lr}\n- seed={job}\n")
        (folder / "status.json").write_text(json.dumps({"status": status}))
        if acc is not None:
            (folder / "metrics.json").write_text(json.dumps({"val/acc": acc}))
    path = write_summary(tmp_path)
    assert path == tmp_path / SUMMARY_FILE
    rows = list(csv.DictReader(path.open()))
    assert [(r["job"], r["model.lr"], r["status"], r["val/acc"]) for r in rows] == [
        ("0", "0.1", "completed", "0.9"),
        ("1", "0.2", "failed", ""),
    ]


def test_a_checkpoint_data_config_never_downloads_or_writes_a_cache() -> None:
    from omegaconf import OmegaConf

    from pegboard.runner.checkpoint import Record
    from pegboard.runner.stage import _data_config

    stored = {"_target_": "x.Data", "data_dir": "/elsewhere", "download": True, "cache": True}
    record = Record(config={"data": stored}, packs={})
    assert _data_config(OmegaConf.create({}), record)["download"] is False
    assert _data_config(OmegaConf.create({}), record)["cache"] is False
    # Asked for on the command line, it is the user's decision.
    chosen = OmegaConf.create({"data": {"download": True}})
    assert _data_config(chosen, record) == {**stored, "cache": False}


@pytest.mark.parametrize("command", ["eval", "predict", "export"])
def test_each_stage_reads_its_checkpoint_once(
    trained: Path, tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    best, reads = _best(trained), []
    real_load = torch.load

    def counting_load(source: object, *args: object, **kwargs: object) -> object:
        if Path(str(source)) == best:
            reads.append(source)
        return real_load(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch, "load", counting_load)
    stage = {"eval": evaluate, "predict": predict, "export": export}[command]
    # export runs no Trainer: it has no trainer settings to give.
    overrides = [f"ckpt_path={best}", *(["format=torchscript"] if command == "export" else STAGE)]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name=command) as cfg:
        stage(cfg)
    assert len(reads) == 1
