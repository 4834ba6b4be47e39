"""Every stage through the `pegboard` command on digits: eval, predict, export, resume, sweeps."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import metrics_of, run_dir_of

FAST = [
    "model=mlp",
    "~callbacks.progress_bar",
    "trainer.enable_progress_bar=false",
    "print_config=false",
]
STAGE = ["trainer.enable_progress_bar=false"]


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_train_eval_predict_export_reload(run_pegboard, tmp_path: Path) -> None:
    train = _ok(run_pegboard("train", *FAST, "trainer.max_epochs=2"))
    run_dir = run_dir_of(train)
    assert (run_dir / "learning_curves.png").exists() and (
        run_dir / "confusion_matrix.png"
    ).exists()
    best = next((run_dir / "checkpoints").glob("epoch_*.ckpt"))

    evaluated = _ok(run_pegboard("eval", f"ckpt_path={best}", *STAGE))
    assert metrics_of(run_dir_of(evaluated))["test/acc"] == metrics_of(run_dir)["test/acc"]

    predicted = _ok(run_pegboard("predict", "ckpt_path=best", *STAGE))
    rows = list(csv.DictReader((run_dir_of(predicted) / "predictions.csv").open()))
    assert len(rows) == 359 and rows[0]["class_name"] == rows[0]["prediction"]
    assert {f"prob_{digit}" for digit in range(10)} <= set(rows[0])

    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    Image.new("L", (32, 32), color=200).save(images / "a.png")
    Image.new("RGB", (16, 16), color=(0, 0, 0)).save(images / "b.jpg")
    on_files = _ok(run_pegboard("predict", "ckpt_path=best", f"input={images}", *STAGE))
    rows = list(csv.DictReader((run_dir_of(on_files) / "predictions.csv").open()))
    assert [Path(row["input"]).name for row in rows] == ["a.png", "b.jpg"]

    exported = _ok(run_pegboard("export", "ckpt_path=best", "format=torchscript"))
    artifact = run_dir_of(exported) / "model.pt"
    sidecar = json.loads((run_dir_of(exported) / "model.pt.json").read_text())
    assert sidecar["input_shape"] == [1, 8, 8] and sidecar["class_names"] == list("0123456789")
    assert len(sidecar["normalization"]["mean"]) == 1
    # The reloaded artifact answers like the checkpoint.
    from pegboard_models_vision.mlp import MLP

    model = MLP.load_from_checkpoint(best, map_location="cpu", weights_only=True).eval()
    inputs = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(artifact))(inputs), model(inputs), atol=1e-5)

    onnx = _ok(run_pegboard("export", "ckpt_path=best", "format=onnx"))
    for noise in ("torchvision::", "onnx_ir", "onnxscript", "LeafSpec"):
        assert noise not in onnx.stdout + onnx.stderr, noise  # quiet by default

    wrong = run_pegboard("export", "ckpt_path=best", "format=tflite")
    assert wrong.returncode == 2
    assert "choose one of: torchscript, onnx, safetensors" in wrong.stderr
    mismatch = run_pegboard("eval", "ckpt_path=best", "model=cnn", *STAGE)
    assert mismatch.returncode == 2 and "model= asks for" in mismatch.stderr


def test_eval_without_a_readable_checkpoint_says_so(run_pegboard, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(b"\x00" * 10)
    result = run_pegboard("eval", f"ckpt_path={broken}")
    assert result.returncode == 2
    assert f"ckpt_path={broken}: not a readable checkpoint" in result.stderr
    assert "Traceback" not in result.stderr


STOPPER = """
import os, signal
import pytorch_lightning as pl


class SigtermAt(pl.Callback):
    def __init__(self, step):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)
"""


def test_sigterm_then_resume_equals_an_uninterrupted_run(run_pegboard, tmp_path: Path) -> None:
    (tmp_path / "stopper.py").write_text(STOPPER)
    args = ["train", *FAST, "trainer.max_epochs=2", "trainer.deterministic=true", "seed=3"]
    args += ["test=false", "plots=false"]
    straight = run_dir_of(_ok(run_pegboard(*args)))

    # SIGTERM in the middle of the first epoch (20 batches per epoch on digits).
    stop = ["+callbacks.stop._target_=stopper.SigtermAt", "+callbacks.stop.step=7"]
    stopped = run_pegboard(*args, *stop)
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    stopped_dir = next(p for p in (tmp_path / "logs/train/runs").iterdir() if p != straight)
    assert json.loads((stopped_dir / "status.json").read_text())["status"] == "interrupted"
    saved = torch.load(stopped_dir / "checkpoints/last.ckpt", weights_only=True)
    assert 0 < saved["global_step"] < 20

    resumed = _ok(run_pegboard(*args, "ckpt_path=last", f"run={stopped_dir.name}"))
    assert f"Resuming from {stopped_dir / 'checkpoints' / 'last.ckpt'}" in resumed.stdout
    resumed_dir = run_dir_of(resumed)
    expected = torch.load(straight / "checkpoints/last.ckpt", weights_only=True)
    actual = torch.load(resumed_dir / "checkpoints/last.ckpt", weights_only=True)
    assert actual["global_step"] == expected["global_step"] == 40
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(actual["state_dict"][name], tensor), name
    assert metrics_of(resumed_dir) == metrics_of(straight)


def test_two_job_multirun_writes_a_summary(run_pegboard, tmp_path: Path) -> None:
    _ok(run_pegboard("train", "--multirun", *FAST, "debug=fast_dev_run", "seed=1,2"))
    (summary,) = (tmp_path / "logs/train/multiruns").glob("*/summary.csv")
    rows = list(csv.DictReader(summary.open()))
    assert [(row["job"], row["seed"], row["status"]) for row in rows] == [
        ("0", "1", "completed"),
        ("1", "2", "completed"),
    ]
    assert all(float(row["test/acc"]) >= 0 for row in rows)


def test_ddp_on_two_cpu_processes_writes_one_complete_run(run_pegboard, tmp_path: Path) -> None:
    result = _ok(
        run_pegboard("train", *FAST, "trainer=ddp_cpu", "trainer.devices=2", "debug=limit_batches")
    )
    (run_dir,) = (tmp_path / "logs/train/runs").iterdir()
    assert run_dir == run_dir_of(result)
    assert result.stdout.count("Run directory:") == 1  # rank zero prints, alone
    assert json.loads((run_dir / "status.json").read_text())["status"] == "completed"
    assert {"test/acc", "val/acc"} <= set(metrics_of(run_dir))
    assert (run_dir / "confusion_matrix.png").exists()


def test_optuna_search_runs_trials_and_summarises_them(run_pegboard, tmp_path: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="pegboard-core[optuna]")
    _ok(
        run_pegboard(
            "train",
            "hparams_search=digits_optuna",
            "hydra.sweeper.n_trials=2",
            "debug=fast_dev_run",
            *FAST,
        )
    )
    (sweep,) = (tmp_path / "logs/train/multiruns").iterdir()
    assert "best_value" in (sweep / "optimization_results.yaml").read_text()
    rows = list(csv.DictReader((sweep / "summary.csv").open()))
    assert len(rows) == 2 and all(row["model.optimizer.lr"] for row in rows)


def test_a_missing_sweeper_plugin_names_the_extra() -> None:
    from hydra.errors import MissingConfigException

    from pegboard_launcher.reporting import explain

    error = MissingConfigException("In 'hparams_search/x': Could not find 'hydra/sweeper/optuna'")
    message = explain(error, [], "train", None)  # type: ignore[arg-type]
    assert "pip install pegboard-core[optuna]" in message
