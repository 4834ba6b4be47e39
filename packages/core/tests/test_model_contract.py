"""Bring your own LightningModule: train, predict and export it; refuse what cannot work early.

The models are plain ``pytorch_lightning.LightningModule`` subclasses (not pegboard.Model)
in a pack written here; the runner is called as a Python function on composed configs.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pegboard import testing as kit
from pegboard.errors import ConfigError
from pegboard.runner.contract import split_kit
from pegboard.runner.export import export
from pegboard.runner.predict import predict
from pegboard.runner.train import train
from pegboard.runner.validate import check_node
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.packs import write_pack

NETS = """\
import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F


class Steps:
    def forward(self, x):
        return self.net(x)

    def _step(self, batch, stage):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.log(f"{stage}/loss", loss)
        self.log(f"{stage}/acc", (logits.argmax(1) == y).float().mean())
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, self.hparams.get("prefix", "val"))

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class LitPlain(Steps, pl.LightningModule):
    def __init__(self, input_size: int = 36, num_classes: int = 3, prefix: str = "val"):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(input_size, 16), nn.BatchNorm1d(16), nn.ReLU(),
            nn.Linear(16, num_classes),
        )


class LitHeld(Steps, pl.LightningModule):
    def __init__(self, net: nn.Module, optimizer=None, compile: bool = False):
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.net = net
"""
UNIFIED = """\
import lightning.pytorch as L


class LitUnified(L.LightningModule):
    def __init__(self, size: int = 2):
        super().__init__()
        self.save_hyperparameters()
"""
CONFIGS = {
    "model/lit_plain.yaml": "_target_: lit_contract.nets.LitPlain\n"
    "input_size: 36\nnum_classes: 3\n_kit_:\n  input_shape: [1, 6, 6]\n  num_classes: 3\n",
    "model/lit_held.yaml": "_target_: lit_contract.nets.LitHeld\n"
    "net: {_target_: torch.nn.Linear, in_features: 36, out_features: 3}\n"
    "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n",
    "model/lit_unified.yaml": "_target_: lit_contract.unified.LitUnified\n",
}
PLUGIN = "lit_contract._plugin:plugin"
QUICK = [
    "data=kit_images",
    "data.input_shape=[1,6,6]",
    "data.num_classes=3",
    "trainer.max_epochs=1",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
    "plots=false",
]
STAGE = ["trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]


@pytest.fixture(scope="module")
def lit_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The pack on ``sys.path``, its module allowed as a target (no launcher registers it)."""
    site = tmp_path_factory.mktemp("site")
    models = {"lit_plain": "lit_contract.nets:LitPlain", "lit_held": "lit_contract.nets:LitHeld"}
    module = write_pack(site, "lit-contract", configs=CONFIGS, models=models)
    (site / module / "nets.py").write_text(NETS)
    (site / module / "unified.py").write_text(UNIFIED)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        patch.setenv("PEGBOARD_ALLOW_TARGETS", module)
        yield PLUGIN
    for name in [name for name in sys.modules if name.startswith(module)]:
        del sys.modules[name]


def _train(run_dir: Path, *overrides: str) -> float | None:
    with compose_config([*QUICK, *overrides], ["lit_contract.conf", KIT_CONFIGS], run_dir) as cfg:
        return train(cfg)


@pytest.fixture(scope="module")
def trained(lit_pack: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("train") / "run"
    _train(run_dir, "model=lit_plain")
    return run_dir


def _stage(name: str, tmp_path: Path, *overrides: str) -> Path:
    with compose_config([*overrides], [KIT_CONFIGS], tmp_path, config_name=name) as cfg:
        return predict(cfg) if name == "predict" else export(cfg)


def _failed_before_an_epoch(run_dir: Path) -> None:
    assert json.loads((run_dir / "status.json").read_text())["status"] == "failed"
    assert not list(run_dir.rglob("*.ckpt"))


def test_a_plain_lightning_module_trains_and_tests_its_best_checkpoint(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    assert {"train/loss", "val/loss", "val/acc", "test/loss", "test/acc"} <= set(metrics)
    assert json.loads((trained / "status.json").read_text())["status"] == "completed"
    # The kit's declaration is for the kit: never recorded with the run.
    assert "_kit_" not in (trained / "config.yaml").read_text()


def test_predict_turns_bare_logits_into_probabilities(trained: Path, tmp_path: Path) -> None:
    best = next((trained / "checkpoints").glob("epoch_*.ckpt"))
    path = _stage("predict", tmp_path, f"ckpt_path={best}", *STAGE)
    rows = list(csv.DictReader(path.open()))
    assert rows and set(rows[0]) == {
        "index",
        "prediction",
        "class_name",
        "prob_class_0",
        "prob_class_1",
        "prob_class_2",
    }
    probabilities = [float(rows[0][f"prob_class_{k}"]) for k in range(3)]
    assert abs(sum(probabilities) - 1) < 1e-4
    assert int(rows[0]["prediction"]) == probabilities.index(max(probabilities))


@pytest.mark.parametrize("fmt", ["torchscript", "safetensors"])
def test_export_needs_no_inference_network(trained: Path, tmp_path: Path, fmt: str) -> None:
    if fmt == "safetensors" and importlib.util.find_spec("safetensors") is None:
        pytest.skip("needs safetensors: pip install pegboard-core[safetensors]")
    best = next((trained / "checkpoints").glob("epoch_*.ckpt"))
    path = _stage("export", tmp_path, f"ckpt_path={best}", f"format={fmt}")
    assert path.exists() and json.loads(Path(f"{path}.json").read_text())["verified"]


def test_hyperparameters_that_cannot_reload_are_refused_before_training(
    lit_pack: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        _train(tmp_path / "run", "model=lit_held")
    message = str(caught.value)
    assert "hyper-parameter net is a torch.nn.modules.linear.Linear (an nn.Module)" in message
    assert "hyper-parameter optimizer is a partial of torch.optim.sgd.SGD" in message
    assert "save_hyperparameters(ignore=['net', 'optimizer'])" in message
    assert "\n" not in message
    _failed_before_an_epoch(tmp_path / "run")


def test_an_unlogged_monitor_is_refused_after_the_sanity_check(
    lit_pack: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        _train(tmp_path / "run", "model=lit_plain", "+model.prefix=valid")
    assert str(caught.value).startswith(
        "callbacks.early_stopping and callbacks.model_checkpoint monitor 'val/loss', which "
        "LitPlain does not log. Did you mean 'valid/loss'? Set "
        "callbacks.early_stopping.monitor=valid/loss and "
        "callbacks.model_checkpoint.monitor=valid/loss"
    )
    assert str(caught.value).endswith("the model logged: valid/acc, valid/loss)")
    _failed_before_an_epoch(tmp_path / "run")


def test_a_module_of_the_lightning_package_is_refused(lit_pack: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("lightning") is None:
        pytest.skip("the `lightning` package is not installed (pip install lightning)")
    with pytest.raises(ConfigError, match=r"`lightning` package: pegboard trains with"):
        _train(tmp_path / "run", "model=lit_unified")
    _failed_before_an_epoch(tmp_path / "run")


@pytest.fixture
def optuna_job(lit_pack: str) -> Iterator[None]:
    """Hydra's state as in a job of an Optuna sweep, which reads what train returns."""
    from hydra import compose, initialize_config_module
    from hydra.core.hydra_config import HydraConfig

    sweeper = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    overrides = [
        f"hydra.searchpath=[pkg://{KIT_CONFIGS}]",
        "model=kit_linear",
        "data=kit_images",
        "hydra.mode=MULTIRUN",
        f"hydra.sweeper._target_={sweeper}",
    ]
    with initialize_config_module("pegboard.conf", version_base=None):
        HydraConfig.instance().set_config(compose("train", overrides, return_hydra_config=True))
    try:
        yield
    finally:
        HydraConfig.instance().cfg = None


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("val/acc_best", r"^optimized_metric monitors 'val/acc_best', which LitPlain does not"),
        ("test/accuracy", r"^optimized_metric='test/accuracy' is not among the run's final"),
    ],
)
def test_a_swept_metric_never_logged_is_refused(
    optuna_job: None, tmp_path: Path, metric: str, message: str
) -> None:
    run_dir = tmp_path / "run"
    overrides = [*QUICK, "model=lit_plain", f"optimized_metric={metric}"]
    with (
        compose_config(overrides, ["lit_contract.conf", KIT_CONFIGS], run_dir) as cfg,
        pytest.raises(ConfigError, match=message) as caught,
    ):
        train(cfg)
    if metric.startswith("test"):  # only known once tested: every metric that exists named
        assert "test/acc, test/loss, train/acc, train/loss, val/acc, val/loss" in str(caught.value)
    assert json.loads((run_dir / "status.json").read_text())["status"] == "failed"


def test_the_kit_checks_a_plain_module_on_the_shape_it_declares(
    lit_pack: str, tmp_path: Path
) -> None:
    # 1x6x6 from _kit_, not 1x8x8 (its export check runs in the lit-port pack's own suite).
    kit.check_model(lit_pack, "lit_plain", tmp_path / "a")
    with pytest.raises(AssertionError, match=r"model=lit_held: hyper-parameter net is a"):
        kit.check_model(lit_pack, "lit_held", tmp_path / "c")
    with pytest.raises(RuntimeError, match="cannot be multiplied"):  # without it: 1x8x8
        kit.check_model(lit_pack, "lit_plain", tmp_path / "d", overrides=["~model._kit_"])


def test_the_kit_declaration_is_validated_and_never_built() -> None:
    node = {"_target_": "torch.nn.Linear", "in_features": 2, "out_features": 2}
    declared = {**node, "_kit_": {"input_shape": [1, 2], "num_classes": 3}}
    assert split_kit(declared) == (node, {"input_shape": [1, 2], "num_classes": 3})
    check_node(declared, "model")  # the pre-run type check leaves the reserved key alone
    with pytest.raises(ConfigError, match=r"input_shap is not a kit setting.*Did you mean"):
        split_kit({**node, "_kit_": {"input_shap": [1]}})
    with pytest.raises(ConfigError, match=r"model\._kit_\.input_shape=\[1, 0\] must be"):
        split_kit({**node, "_kit_": {"input_shape": [1, 0]}})
    with pytest.raises(ConfigError, match=r"num_classes=1 must be a whole number of 2"):
        split_kit({**node, "_kit_": {"num_classes": 1}})
