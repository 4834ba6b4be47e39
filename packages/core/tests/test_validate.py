"""Config values are checked against the annotations of the classes they build."""

from __future__ import annotations

import pytest

from pegboard.errors import ConfigError
from pegboard.runner.validate import check_node

TRAINER = "pytorch_lightning.Trainer"


def test_valid_values_pass() -> None:
    check_node(
        {
            "_target_": TRAINER,
            "max_epochs": 3,
            "precision": "bf16-mixed",
            "gradient_clip_val": None,
            "devices": [0],
        },
        "trainer",
    )


def test_wrong_type_names_key_expected_type_and_value() -> None:
    with pytest.raises(
        ConfigError, match=r"trainer.max_epochs='abc': expected int or None, got str"
    ):
        check_node({"_target_": TRAINER, "max_epochs": "abc"}, "trainer")


def test_int_is_accepted_where_float_is_expected_but_not_bool_for_int() -> None:
    check_node({"_target_": "torch.optim.lr_scheduler.StepLR", "step_size": 2, "gamma": 1}, "s")
    with pytest.raises(ConfigError, match="expected int"):
        check_node({"_target_": "torch.optim.lr_scheduler.StepLR", "step_size": True}, "s")


def test_unknown_argument_suggests_the_closest() -> None:
    with pytest.raises(
        ConfigError, match=r"trainer.max_epoch is not an argument .* trainer.max_epochs\?"
    ):
        check_node({"_target_": TRAINER, "max_epoch": 3}, "trainer")


def test_nested_nodes_are_checked_with_their_path() -> None:
    node = {
        "_target_": "pegboard.testing.models.LinearClassifier",
        "input_shape": [1, 2, 2],
        "num_classes": 2,
        "optimizer": {"_target_": "torch.optim.SGD", "_partial_": True, "lr": "fast"},
    }
    with pytest.raises(ConfigError, match=r"model.optimizer.lr='fast'"):
        check_node(node, "model")


def test_unimportable_target_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot be imported"):
        check_node({"_target_": "no_such_module.Thing"}, "model")
