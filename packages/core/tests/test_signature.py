"""pegboard.signature.extends: a model forwarding **task_options keeps its config checked."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pegboard.errors import ConfigError
from pegboard.runner.validate import check_node
from pegboard.signature import extends
from pegboard.tasks import ClassificationModel
from pegboard.testing import quiet_trainer
from pegboard.testing.datamodule import RandomImageDataModule


@extends
class ForwardingNet(ClassificationModel):
    def __init__(self, input_shape: list[int], num_classes: int, **task_options: Any) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(int(torch.tensor(input_shape).prod()), num_classes)
        )


TARGET = f"{__name__}.ForwardingNet"


def test_the_signature_lists_own_arguments_then_the_tasks() -> None:
    names = list(inspect.signature(ForwardingNet).parameters)
    assert names[:2] == ["input_shape", "num_classes"]
    assert {"label_smoothing", "ema_decay", "optimizer", "compile"} <= set(names)
    assert "task_options" not in names and names.count("num_classes") == 1


def test_config_keys_of_the_base_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEGBOARD_ALLOW_TARGETS", __name__)
    node = {"_target_": TARGET, "input_shape": [1, 4, 4], "num_classes": 3}
    check_node({**node, "label_smoothing": 0.1, "ema_decay": 0.99}, "model")
    with pytest.raises(ConfigError, match=r"model.ema_decy .* Did you mean model.ema_decay\?"):
        check_node({**node, "ema_decy": 0.99}, "model")
    with pytest.raises(ConfigError, match=r"model.label_smoothing='high': expected float"):
        check_node({**node, "label_smoothing": "high"}, "model")


def test_forwarded_options_are_saved_and_restored(tmp_path: Path) -> None:
    model = ForwardingNet([1, 4, 4], 3, label_smoothing=0.2, ema_decay=0.9)
    assert model.hparams["label_smoothing"] == 0.2 and "optimizer" not in model.hparams
    trainer = quiet_trainer(tmp_path, max_steps=1, limit_val_batches=0)
    trainer.fit(model, datamodule=RandomImageDataModule((1, 4, 4), 3, num_samples=8, batch_size=4))
    path = tmp_path / "net.ckpt"
    trainer.save_checkpoint(path)
    restored = ForwardingNet.load_from_checkpoint(path, weights_only=True)
    assert restored.label_smoothing == 0.2 and restored.ema is not None
