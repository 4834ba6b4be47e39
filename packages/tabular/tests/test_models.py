"""The tabular models: shapes, argument checks, checkpoints, exports, and learning."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import torch

from pegboard import DataModule, testing
from pegboard.loaders import TensorBatchLoader
from pegboard.supervision import Classes, TargetSpec, Values
from pegboard_tabular.ft_transformer import FTTransformer
from pegboard_tabular.mlp import TabularMLP
from pegboard_tabular.resmlp import TabularResMLP

MODELS = [TabularMLP, TabularResMLP, FTTransformer]
FEATURES = 6
#: The regression targets' scale: far from (0, 1), so a model that ignored it would fail.
TARGET_MEAN, TARGET_STD = 50.0, 10.0


class SyntheticTable(DataModule):
    """A learnable table: classes split by two linear rules, or a linear value plus noise.

    Regression targets are ``50 + 10 * (x @ w)`` (mean about 50, spread about 10), and
    ``target`` reports their training mean and spread as a tabular datamodule does.
    """

    def __init__(self, task: str = "classification", samples: int = 256, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.task = task
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        weights = torch.randn(FEATURES, 2, generator=generator)
        for split in ("train", "val", "test"):
            x = torch.randn(samples, FEATURES, generator=generator)
            scores = x @ weights
            if task == "classification":
                # Three classes: the sign of the first rule, then of the second.
                y: torch.Tensor = torch.where(scores[:, 0] < 0, 0, 1 + (scores[:, 1] > 0).long())
            else:
                line = scores[:, :1] / weights[:, 0].norm()
                noise = 0.1 * torch.randn(samples, 1, generator=generator)
                y = TARGET_MEAN + TARGET_STD * (line + noise)
            self.splits[split] = (x, y)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (FEATURES,)

    @property
    def target(self) -> TargetSpec:
        if self.task == "classification":
            return Classes(3)
        y = self.splits["train"][1]
        return Values(1, mean=(float(y.mean()),), std=(float(y.std()),))

    def _loader(self, split: str) -> TensorBatchLoader:
        x, y = self.splits[split]
        return TensorBatchLoader(x, y, 32, shuffle=split == "train")

    def train_dataloader(self) -> TensorBatchLoader:
        return self._loader("train")

    def val_dataloader(self) -> TensorBatchLoader:
        return self._loader("val")

    def test_dataloader(self) -> TensorBatchLoader:
        return self._loader("test")


def _build(model_class: type, task: str, input_shape: Any = (FEATURES,), **options: Any) -> Any:
    labels = {"num_classes": 3} if task == "classification" else {}
    return model_class(input_shape, task=task, **labels, **options)


@pytest.mark.parametrize("model_class", MODELS)
@pytest.mark.parametrize(
    ("task", "options", "outputs"),
    [
        ("classification", {}, 3),
        ("regression", {}, 1),
        ("regression", {"num_outputs": 2}, 2),
    ],
)
def test_forward_shapes(model_class: type, task: str, options: dict, outputs: int) -> None:
    model = _build(model_class, task, **options).eval()
    assert model(torch.randn(5, FEATURES)).shape == (5, outputs)
    assert model.output_size == outputs


@pytest.mark.parametrize("model_class", MODELS)
def test_inputs_with_more_dimensions_are_flattened(model_class: type) -> None:
    model = _build(model_class, "classification", input_shape=(1, 8, 8)).eval()
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 3)


@pytest.mark.parametrize("model_class", MODELS)
def test_signature_lists_the_task_options(model_class: type) -> None:
    # pegboard checks config keys against it: the base's options must show through.
    params = inspect.signature(model_class).parameters
    assert list(params)[:4] == ["input_shape", "task", "num_classes", "num_outputs"]
    assert {"dropout", "loss", "huber_delta", "ema_decay", "optimizer"} <= set(params)


def test_mlp_without_hidden_layers_is_linear() -> None:
    model = TabularMLP([FEATURES], task="regression", hidden=[])
    assert [type(m).__name__ for m in model.net] == ["Flatten", "Linear"]


@pytest.mark.parametrize(
    ("model_class", "options", "message"),
    [
        (TabularMLP, {"dropout": 1.0}, "dropout"),
        (TabularMLP, {"norm": "groupnorm"}, "norm='groupnorm'"),
        (TabularMLP, {"activation": "tanh"}, "activation='tanh'"),
        (TabularMLP, {"hidden": [8, 0]}, "hidden"),
        (TabularResMLP, {"depth": -1}, "depth"),
        (TabularResMLP, {"residual_dropout": -0.1}, "residual_dropout"),
        (FTTransformer, {"d_token": 30, "n_heads": 8}, "multiple of n_heads"),
        (FTTransformer, {"attention_dropout": 1.5}, "attention_dropout"),
        (FTTransformer, {"n_blocks": 0}, "n_blocks"),
    ],
)
def test_bad_arguments_are_named(model_class: type, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _build(model_class, "classification", **options)


@pytest.mark.parametrize("model_class", MODELS)
def test_task_errors_come_from_the_base(model_class: type) -> None:
    with pytest.raises(ValueError, match="num_classes"):
        model_class([FEATURES])
    with pytest.raises(ValueError, match="not a regression loss"):
        model_class([FEATURES], task="regression", loss="cross_entropy")


def _fit(model: Any, task: str, root: Path, epochs: int) -> tuple[Any, SyntheticTable]:
    data = SyntheticTable(task)
    trainer = testing.quiet_trainer(root, max_epochs=epochs)
    trainer.fit(model, datamodule=data)
    return trainer, data


@pytest.mark.parametrize("model_class", MODELS)
def test_regression_checkpoint_keeps_target_scale(model_class: type, tmp_path: Path) -> None:
    model = _build(model_class, "regression", optimizer=None)
    trainer, data = _fit(model, "regression", tmp_path, epochs=1)
    assert float(model.target_scale.mean) == pytest.approx(data.target.mean[0], rel=1e-5)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = model_class.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    assert restored.task == "regression"
    assert torch.equal(restored.target_scale.std, model.target_scale.std)
    inputs = data.splits["test"][0][:8]
    model.eval()
    restored.eval()
    with torch.no_grad():
        assert torch.equal(restored(inputs), model(inputs))
        # Answers in the data's units, around 50, not standardized ones around 0.
        assert 20 < float(restored(inputs).mean()) < 80


@pytest.mark.parametrize("model_class", MODELS)
def test_regression_exports_with_its_target_scale(model_class: type, tmp_path: Path) -> None:
    from pegboard.export import export_torchscript

    model = _build(model_class, "regression")
    model.target_scale.set([TARGET_MEAN], [TARGET_STD])
    example = torch.randn(4, FEATURES)
    export_torchscript(model, example, tmp_path / "model.pt")
    loaded = torch.jit.load(str(tmp_path / "model.pt"))
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(example), model(example))


#: Epochs each model needs on the synthetic tables (a few seconds each on 2 cores).
EPOCHS = {TabularMLP: 8, TabularResMLP: 8, FTTransformer: 10}


@pytest.mark.parametrize("model_class", MODELS)
def test_learns_classes(model_class: type, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = _build(model_class, "classification", optimizer=_adamw)
    trainer, _ = _fit(model, "classification", tmp_path, EPOCHS[model_class])
    assert float(trainer.callback_metrics["val/acc"]) >= 0.8


@pytest.mark.parametrize("model_class", MODELS)
def test_learns_values(model_class: type, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = _build(model_class, "regression", optimizer=_adamw)
    trainer, _ = _fit(model, "regression", tmp_path, EPOCHS[model_class])
    assert float(trainer.callback_metrics["val/r2"]) >= 0.9


def _adamw(params: Any) -> torch.optim.Optimizer:
    # Faster than the configs' rates: these tests train a few epochs, not thirty.
    return torch.optim.AdamW(params, lr=3e-3)
