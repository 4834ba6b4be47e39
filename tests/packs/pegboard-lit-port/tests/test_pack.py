"""The pack's own tests: the conformance suite, as every third-party pack runs it."""

from __future__ import annotations

from pathlib import Path

from pegboard.testing.model_check import model_case
from pegboard.testing.suite import PackTestSuite

PLUGIN = "pegboard_lit_port._plugin:plugin"


class TestLitPortPack(PackTestSuite):
    """Manifest, compose, and per model option: train, predict, reload, export."""

    plugin = PLUGIN


def test_the_kit_uses_the_input_shape_each_config_declares(tmp_path: Path) -> None:
    # The suite's default (1x8x8) would not fit the MNIST-sized network.
    assert model_case(PLUGIN, "lit_port_mnist", tmp_path).input_shape == [1, 28, 28]
    assert model_case(PLUGIN, "lit_port_digits", tmp_path).input_shape == [1, 8, 8]
