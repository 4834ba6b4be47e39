"""pegboard.inspect.model_info and the `model-info` runner task."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from torch import nn

from pegboard.errors import ConfigError
from pegboard.inspect import human, model_info
from pegboard.runner.model_info import show_model_info


def test_counts_parameters_and_flops() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    model[2].weight.requires_grad_(False)
    info = model_info(model, [1, 8, 8])
    assert info["parameters"] == (4 * 9 + 4) + (144 * 5 + 5)
    assert info["trainable_parameters"] == (4 * 9 + 4) + 5
    conv = 2 * (4 * 6 * 6) * 9  # one multiply-add per kernel weight per output pixel
    linear = 2 * 144 * 5
    assert info["flops"] == conv + linear
    assert info["output_shape"] == [5]
    assert [b["flops"] for b in info["blocks"]] == [conv, 0, linear]
    assert model.training, "the model's mode is restored"


def test_flops_are_per_sample() -> None:
    model = nn.Linear(10, 3)
    assert model_info(model, [10], batch_size=4)["flops"] == model_info(model, [10])["flops"]


def test_human() -> None:
    assert human(1_234_567) == "1.23M"
    assert human(999) == "999"
    assert human(2.5e9) == "2.50G"


def test_model_info_task_builds_the_config_and_prints(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = OmegaConf.create(
        {
            "model": {
                "_target_": "torch.nn.Linear",
                "in_features": "${data.size}",
                "out_features": 2,
            },
            "data": {"size": 6},
            "input_shape": ["${data.size}"],
            "batch_size": 1,
        }
    )
    info = show_model_info(cfg)
    assert info["parameters"] == 14 and info["flops"] == 24
    out = capsys.readouterr().out
    assert "torch.nn.modules.linear.Linear" in out and "14" in out and "FLOPs" in out


def test_model_info_task_reports_bad_arguments() -> None:
    cfg = OmegaConf.create(
        {
            "model": {"_target_": "torch.nn.Linear", "in_feature": 6, "out_features": 2},
            "input_shape": [6],
            "batch_size": 1,
        }
    )
    with pytest.raises(ConfigError, match="in_feature"):
        show_model_info(cfg)
