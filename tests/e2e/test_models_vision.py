"""The vision model pack through the installed ``pegboard`` command."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import QUICK, metrics_of, run_dir_of

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_lenet_learns_digits(run_pegboard: Run) -> None:
    result = run_pegboard("train", "model=lenet", "data=digits", *QUICK)
    assert result.returncode == 0, result.stderr
    metrics = metrics_of(run_dir_of(result))
    # Two epochs on the real 8x8 digits: far above the 10% of chance.
    assert metrics["test/acc"] > 0.5, metrics


def test_resnet20_with_task_features_trains_a_step(run_pegboard: Run) -> None:
    result = run_pegboard(
        "train",
        "model=resnet20",
        "data=digits",
        "trainer.fast_dev_run=true",
        "model.ema_decay=0.99",
        "model.channels_last=true",
        "model.label_smoothing=0.1",
        "trainer.precision=bf16-mixed",
        *QUICK,
    )
    assert result.returncode == 0, result.stderr
    assert "Test accuracy:" in result.stdout


def test_model_info_prints_size_and_flops_without_a_run_dir(
    run_pegboard: Run, tmp_path: Path
) -> None:
    result = run_pegboard("model-info", "model=resnet20", "data=digits")
    assert result.returncode == 0, result.stderr
    assert "CifarResNet on 1x8x8 inputs" in result.stdout
    assert "272,186" in result.stdout  # ResNet-20 on 1 channel and 10 classes
    assert "FLOPs per sample" in result.stdout
    assert not any(tmp_path.iterdir()), "model-info wrote files"


def test_model_info_names_a_bad_patch_size(run_pegboard: Run) -> None:
    result = run_pegboard("model-info", "model=vit_tiny", "data=digits", "model.patch_size=3")
    assert result.returncode != 0
    assert "patch_size=3" in result.stdout + result.stderr
