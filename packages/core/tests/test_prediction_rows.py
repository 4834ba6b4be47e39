"""What a predict_step may return, and the rows pegboard predict writes from it."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch

from pegboard.errors import ConfigError
from pegboard.runner.predictions import (
    class_names_from,
    inputs_only_predict,
    prediction_rows,
)

NAMES = class_names_from([lambda: ["cat", "dog"]])


def test_logits_alone_give_probabilities_and_the_most_probable_class() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    rows = prediction_rows([logits], NAMES, inputs=["a.png", "b.png"])
    assert [(r["input"], r["prediction"], r["class_name"]) for r in rows] == [
        ("a.png", 0, "cat"),
        ("b.png", 1, "dog"),
    ]
    assert rows[0]["prob_cat"] == round(torch.tensor([2.0, 0.0]).softmax(0)[0].item(), 6)
    assert prediction_rows([{"logits": logits}], NAMES) == prediction_rows([logits], NAMES)


def test_probabilities_and_prediction_are_taken_as_given() -> None:
    output = {"probabilities": torch.tensor([[0.3, 0.7]]), "prediction": torch.tensor([1])}
    (row,) = prediction_rows([output], NAMES)
    assert row == {
        "index": 0,
        "prediction": 1,
        "class_name": "dog",
        "prob_cat": 0.3,
        "prob_dog": 0.7,
    }


@pytest.mark.parametrize("values", [torch.tensor([0.5, 1.5]), torch.tensor([[0.5], [1.5]])])
def test_one_value_per_input_is_a_regression(values: torch.Tensor) -> None:
    assert prediction_rows([values], NAMES) == [
        {"index": 0, "prediction": 0.5},
        {"index": 1, "prediction": 1.5},
    ]


def test_class_names_fall_back_to_indices_when_the_count_differs() -> None:
    rows = prediction_rows([torch.zeros(1, 3)], NAMES)
    assert set(rows[0]) == {"index", "prediction", "class_name", "prob_0", "prob_1", "prob_2"}


@pytest.mark.parametrize(
    ("outputs", "said"),
    [
        ([None], "returned None; return logits"),
        ([torch.zeros(2, 3, 4)], "a tensor of shape (2, 3, 4) and dtype float32"),
        ([torch.zeros(2, 3, dtype=torch.long)], "a tensor of shape (2, 3) and dtype int64"),
        ([{"loss": torch.zeros(())}], "a dict with keys ['loss']"),
        ([torch.zeros(2, 2), torch.zeros(2)], "class scores for some batches and values"),
        ([], "returned no predictions"),
    ],
)
def test_other_outputs_are_refused_naming_what_would_work(outputs: list, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        prediction_rows(outputs, NAMES, model="Net")
    assert said in str(caught.value)
    assert str(caught.value).startswith("Net.predict_step returned")


class Doubler(pl.LightningModule):
    """No predict_step of its own: Lightning's default would call it with (inputs, targets)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * x


def test_a_model_without_predict_step_is_called_with_the_inputs_only() -> None:
    model = Doubler()
    batch = (torch.ones(2, 1), torch.zeros(2))
    with inputs_only_predict(model):
        assert torch.equal(model.predict_step(batch, 0), 2 * torch.ones(2, 1))
    assert "predict_step" not in vars(model)  # the instance is left as it was


def test_values_of_several_outputs_get_one_named_column_each_beside_the_input_row() -> None:
    values = {"values": torch.tensor([[1.5, 10.0], [2.5, 20.0]])}
    given = [{"size": "3", "prediction": "old"}, {"size": "4", "prediction": ""}]
    rows = prediction_rows([values], NAMES, given, value_names=["price", "rent"])
    assert rows[0] == {
        "index": 0,
        "size": "3",
        # The input's own column keeps its value under another name.
        "input_prediction": "old",
        "prediction_price": 1.5,
        "prediction_rent": 10.0,
    }
    assert prediction_rows([{"values": torch.tensor([3.0, 4.0])}], NAMES)[1]["prediction"] == 4.0


def test_a_datamodule_of_values_describes_the_config_keys_left_null() -> None:
    from omegaconf import OmegaConf

    from pegboard.runner.describe import fill_described
    from pegboard.testing.datamodule import RandomValuesDataModule

    cfg = OmegaConf.create(
        {"data": {"input_shape": None, "task": None, "num_outputs": None, "batch_size": 8}}
    )
    written = fill_described(cfg, RandomValuesDataModule(input_shape=(5,), num_outputs=2))
    assert written == {"input_shape": [5], "task": "regression", "num_outputs": 2}
    assert cfg.data.input_shape == [5] and cfg.data.batch_size == 8
