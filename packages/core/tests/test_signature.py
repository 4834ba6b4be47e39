"""A model or datamodule forwarding **kwargs to its base keeps its config checked (no decorator)."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from pegboard.datamodule import DataModule
from pegboard.errors import ConfigError
from pegboard.runner.validate import check_node
from pegboard.signature import extends
from pegboard.tasks import ClassificationModel
from pegboard.testing import quiet_trainer
from pegboard.testing.datamodule import RandomImageDataModule


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


class FixedNet(ForwardingNet):
    """Its own ``__init__`` without ``**kwargs``: the base's published signature must go."""

    def __init__(self, width: int = 2) -> None:
        super().__init__([1, 4, 4], 3)


class ForwardingData(RandomImageDataModule):
    def __init__(self, flip: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flip = flip


def test_a_subclass_with_its_own_fixed_init_reports_that_init() -> None:
    assert list(inspect.signature(FixedNet).parameters) == ["width"]


def test_type_checks_see_the_bases_evaluated_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEGBOARD_ALLOW_TARGETS", __name__)
    node = {"_target_": TARGET, "input_shape": [1, 4, 4], "num_classes": 3}
    with pytest.raises(ConfigError, match=r"model.ema_decay='abc': expected float or None"):
        check_node({**node, "ema_decay": "abc"}, "model")
    assert inspect.signature(ForwardingNet).parameters["label_smoothing"].annotation is float


def test_datamodules_forwarding_kwargs_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEGBOARD_ALLOW_TARGETS", __name__)
    assert issubclass(ForwardingData, DataModule)
    node = {"_target_": f"{__name__}.ForwardingData", "flip": True, "batch_size": 4}
    check_node(node, "data")
    with pytest.raises(ConfigError, match=r"data.bach_size .* Did you mean data.batch_size\?"):
        check_node({**node, "bach_size": 4}, "data")


def test_the_old_decorator_warns_and_changes_nothing() -> None:
    published = inspect.signature(ForwardingNet)
    with pytest.warns(DeprecationWarning, match="remove @extends from ForwardingNet"):
        assert extends(ForwardingNet) is ForwardingNet
    assert inspect.signature(ForwardingNet) == published


def test_the_old_decorator_still_publishes_on_other_classes() -> None:
    class Base:
        def __init__(self, rate: float = 0.1) -> None:
            self.rate = rate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        @extends
        class Child(Base):
            def __init__(self, size: int, **kwargs: Any) -> None:
                super().__init__(**kwargs)

    assert list(inspect.signature(Child).parameters) == ["size", "rate"]
