"""The core conformance kit over every model config the pack ships, as third parties run it.

The kit trains each option on its random 1x8x8 images (flattened: 64 features), predicts,
reloads it from a checkpoint and exports it. The data configs' checks are in the data
tests; here the model configs also compose against a regression data node.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pegboard
from pegboard import testing as kit
from pegboard.plugin import load_object
from pegboard.testing.export_check import check_export
from pegboard.testing.model_check import build_node

PLUGIN = "pegboard_tabular._plugin:plugin"
MODEL_OPTIONS = kit.config_options(PLUGIN, "model")


def test_every_model_is_advertised_and_configured() -> None:
    manifest = kit.load_plugin(PLUGIN)
    assert sorted(manifest.models) == sorted(MODEL_OPTIONS)
    for target in manifest.models.values():
        model_class = load_object(target)
        assert isinstance(model_class, type) and issubclass(model_class, pegboard.Model)


@pytest.mark.parametrize("option", MODEL_OPTIONS)
def test_model_contract(option: str, tmp_path: Path) -> None:
    """Trains a step, predicts, and reloads from its checkpoint identically."""
    kit.check_model(PLUGIN, option, tmp_path)


@pytest.mark.parametrize("option", MODEL_OPTIONS)
def test_model_exports(option: str, tmp_path: Path) -> None:
    """TorchScript, ONNX and safetensors answer as the model does (those installed)."""
    assert "torchscript" in check_export(PLUGIN, option, tmp_path)


@pytest.mark.parametrize("option", MODEL_OPTIONS)
@pytest.mark.parametrize("outputs", [1, 3])
def test_model_config_follows_a_regression_data_node(
    option: str, outputs: int, tmp_path: Path
) -> None:
    """``task`` and ``num_outputs`` come from the data config by interpolation."""
    node, _ = kit.model_configs(
        PLUGIN,
        option,
        tmp_path,
        input_shape=[10],
        overrides=["+data.task=regression", f"+data.num_outputs={outputs}"],
    )
    assert node["task"] == "regression" and node["num_outputs"] == outputs
    model = build_node(node, PLUGIN)
    assert model.task == "regression" and model.output_size == outputs
