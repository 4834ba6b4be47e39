"""Checkpoints written by pegboard 0.1 (before targets and regression) still load and score."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pegboard.runner.evaluate import evaluate
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.models import LinearClassifier

#: Written by `pegboard train` on pegboard 0.1 (kit_linear on kit_images, 3 classes of 4x4).
OLD = Path(__file__).parent / "data" / "pegboard-0.1-kit-linear.ckpt"


def test_an_old_checkpoint_rebuilds_its_classifier_with_the_same_state() -> None:
    model = LinearClassifier.load_from_checkpoint(OLD, weights_only=True)
    stored = torch.load(OLD, weights_only=True)["state_dict"]
    assert set(model.state_dict()) == set(stored)  # no key added to a classifier
    assert model.task == "classification" and model.num_classes == 3
    for key, value in stored.items():
        assert torch.equal(model.state_dict()[key], value)


def test_eval_of_an_old_checkpoint_gives_the_metrics_it_gave_on_0_1(tmp_path: Path) -> None:
    overrides = [f"ckpt_path={OLD}", "trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]
    with compose_config(overrides, [KIT_CONFIGS], tmp_path, config_name="eval") as cfg:
        metrics = evaluate(cfg)
    # Measured with pegboard 0.1 (commit 43a542d) on this same file.
    assert metrics["test/acc"] == 1.0
    assert metrics["test/loss"] == pytest.approx(0.20891818404197693, rel=1e-6)
