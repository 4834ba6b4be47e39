"""The train runner, called as a Python function on composed configs (no launcher, no packs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard.runner.metadata import CHECKPOINT_KEY
from pegboard.runner.train import train
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.models import LinearClassifier

QUICK = [
    "model=kit_linear",
    "data=kit_images",
    "trainer.max_epochs=3",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
]


def _train(tmp_path: Path, *overrides: str) -> tuple[float | None, Path]:
    run_dir = tmp_path / "run"
    with compose_config([*QUICK, *overrides], [KIT_CONFIGS], run_dir) as cfg:
        return train(cfg), run_dir


def test_train_writes_a_complete_run_directory(tmp_path: Path) -> None:
    result, run_dir = _train(tmp_path)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert result == metrics["val/acc"]
    assert {"train/loss", "val/loss", "val/acc", "test/loss", "test/acc"} <= set(metrics)
    assert metrics["test/acc"] > 0.5  # learnable random images: far above 1/10 chance
    assert json.loads((run_dir / "status.json").read_text())["status"] == "completed"
    assert "pegboard-core" in json.loads((run_dir / "packs.json").read_text())
    assert (
        "_target_: pegboard.testing.models.LinearClassifier"
        in (run_dir / "config.yaml").read_text()
    )
    assert (run_dir / "csv" / "metrics.csv").exists()
    assert (run_dir / "checkpoints" / "last.ckpt").exists()


def test_checkpoint_is_self_contained_and_loads_weights_only(tmp_path: Path) -> None:
    _, run_dir = _train(tmp_path)
    best = next(p for p in (run_dir / "checkpoints").glob("epoch_*.ckpt"))
    checkpoint = torch.load(best, map_location="cpu", weights_only=True)
    assert checkpoint[CHECKPOINT_KEY]["config"]["model"]["_target_"].endswith("LinearClassifier")
    assert checkpoint[CHECKPOINT_KEY]["packs"]["pegboard-core"]
    model = LinearClassifier.load_from_checkpoint(best, weights_only=True)
    assert model.hparams["input_shape"] == [1, 8, 8]


def test_same_seed_gives_same_metrics(tmp_path: Path) -> None:
    first, _ = _train(tmp_path / "a", "seed=7", "test=false")
    second, _ = _train(tmp_path / "b", "seed=7", "test=false")
    assert first == second


def test_wrong_type_fails_before_training_and_marks_the_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"trainer.max_epochs='many'"):
        _train(tmp_path, "trainer.max_epochs=many")
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "failed"
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_tensorboard_logger_gets_metrics_and_the_plots(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, run_dir = _train(tmp_path, "logger=tensorboard", "trainer.max_epochs=2")
    scalars: set[str] = set()
    images: set[str] = set()
    for events in (run_dir / "tensorboard").glob("events.out.tfevents.*"):
        board = EventAccumulator(str(events), size_guidance={"images": 0, "scalars": 0})
        board.Reload()
        scalars |= set(board.Tags()["scalars"])
        images |= set(board.Tags()["images"])
    assert {"val/loss", "val/acc"} <= scalars
    assert {"learning_curves", "confusion_matrix"} <= images
    assert (run_dir / "learning_curves.png").exists()
    assert (run_dir / "confusion_matrix.png").exists()


def test_required_value_is_named_before_anything_is_built(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^data\.num_classes must be set.*data\.num_classes="):
        _train(tmp_path, "data.num_classes=???")
    assert json.loads((tmp_path / "run" / "status.json").read_text())["status"] == "failed"


def test_metrics_json_holds_epoch_metrics_only(tmp_path: Path) -> None:
    _, run_dir = _train(tmp_path, "trainer.max_epochs=1", "trainer.log_every_n_steps=1")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "train/loss" in metrics and "val/loss" in metrics
    assert not [name for name in metrics if name.endswith("_step")]
