"""scikit-learn's bundled tables: shapes, seeded stratified splits, standardization, state."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn import datasets as sk
from tabular_tables import write_csv

from pegboard.errors import ConfigError
from pegboard.supervision import Classes, Values
from pegboard_tabular.base import TabularDataModule
from pegboard_tabular.datasets import (
    BreastCancerDataModule,
    DiabetesDataModule,
    IrisDataModule,
    WineDataModule,
)

#: class, features, rows, classes (None: one regression value)
SETS = [
    (IrisDataModule, 4, 150, 3),
    (WineDataModule, 13, 178, 3),
    (BreastCancerDataModule, 30, 569, 2),
    (DiabetesDataModule, 10, 442, None),
]


def _through_checkpoint(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save({"state": state}, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)["state"]


@pytest.mark.parametrize(("cls", "features", "rows", "classes"), SETS)
def test_shapes_splits_and_standardization(
    cls: type[TabularDataModule], features: int, rows: int, classes: int | None
) -> None:
    dm = cls(batch_size=16)
    assert dm.input_shape == (features,)  # known before setup
    dm.setup("fit")
    sizes = {name: len(idx) for name, idx in dm.split_rows.items()}
    assert sum(sizes.values()) == rows
    assert sizes["test"] == round(rows * 0.2) and sizes["val"] == round(rows * 0.1)
    every = np.concatenate(list(dm.split_rows.values()))
    assert len(np.unique(every)) == rows  # disjoint and complete
    train_x = dm._prepare()["train"][0]
    np.testing.assert_allclose(train_x.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(train_x.std(0, unbiased=False), 1, atol=1e-4)
    for split, loader in (("train", dm.train_dataloader()), ("test", dm.test_dataloader())):
        inputs, targets = next(iter(loader))
        assert inputs.dtype == torch.float32 and inputs.shape == (16, features), split
        if classes is None:
            assert targets.dtype == torch.float32 and targets.shape == (16, 1)
        else:
            assert targets.dtype == torch.int64 and targets.shape == (16,)
            assert int(targets.max()) < classes
    if classes is None:
        assert isinstance(dm.target, Values) and dm.target.count == 1
    else:
        assert dm.target == Classes(classes, dm.target.names) and dm.num_classes == classes


def test_class_names_and_indices_are_scikit_learns() -> None:
    dm = BreastCancerDataModule()
    assert dm.class_names == ["malignant", "benign"]
    served = torch.cat([split[1] for split in dm._prepare().values()])
    assert torch.bincount(served).tolist() == np.bincount(sk.load_breast_cancer().target).tolist()


def test_the_split_is_seeded_and_stratified() -> None:
    first, again, other = IrisDataModule(), IrisDataModule(), IrisDataModule(split_seed=1)
    for dm in (first, again, other):
        dm.setup()
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(first.split_rows[name], again.split_rows[name])
    assert not np.array_equal(first.split_rows["test"], other.split_rows["test"])
    for name, per_class in (("val", 5), ("test", 10), ("train", 35)):
        targets = first._prepare()[name][1]
        assert torch.bincount(targets).tolist() == [per_class] * 3, name


def test_diabetes_is_unscaled_regression_with_training_statistics() -> None:
    dm = DiabetesDataModule()
    dm.setup()
    train_y = dm._prepare()["train"][1].double()
    assert float(train_y.min()) >= 25 and float(train_y.max()) <= 346  # raw units
    target = dm.target
    assert isinstance(target, Values) and target.names == ("progression",)
    assert target.mean == pytest.approx((float(train_y.mean()),))
    assert target.std == pytest.approx((float(train_y.std(unbiased=False)),))
    assert "sex" in dm.feature_names  # scaled=False keeps 1 and 2: standardized here


def test_state_survives_a_weights_only_checkpoint_and_needs_no_data(tmp_path: Path) -> None:
    trained = DiabetesDataModule(split_seed=3)
    trained.setup()
    state = _through_checkpoint(trained.state_dict())
    assert "mean" not in state and "std" not in state  # those keys mean image statistics

    restored = DiabetesDataModule()
    restored.read = lambda: pytest.fail("predict must not read the training data")  # type: ignore[method-assign]
    restored.load_state_dict(state)
    assert restored.input_shape == (10,) and restored.target == trained.target

    # predict_inputs reads a CSV with scikit-learn's feature names, in the saved transform.
    bunch = sk.load_diabetes(scaled=False)
    rows = trained.split_rows["test"][:5]
    path = write_csv(tmp_path / "new.csv", bunch.feature_names, bunch.data[rows].tolist())
    got = restored.predict_inputs(path)
    np.testing.assert_allclose(got.inputs, trained._prepare()["test"][0][:5], atol=1e-5)
    assert got.rows[0] == dict(zip(bunch.feature_names, map(str, bunch.data[rows[0]]), strict=True))


def test_a_loaded_state_wins_over_the_one_fitted_in_setup() -> None:
    trained = IrisDataModule(split_seed=0)
    trained.setup()
    evaluated = IrisDataModule(split_seed=5)  # fits other statistics on another split
    evaluated.setup()
    assert evaluated.state_dict() != trained.state_dict()
    evaluated.load_state_dict(_through_checkpoint(trained.state_dict()))  # RestoreDataState
    assert evaluated.state_dict() == trained.state_dict()
    # The same rows now give the same inputs as in training.
    test_rows = evaluated.split_rows["test"]
    inputs = next(iter(evaluated.test_dataloader()))[0]
    all_trained = torch.empty(150, 4)
    for name, rows in trained.split_rows.items():
        all_trained[rows] = trained._prepare()[name][0]
    torch.testing.assert_close(inputs, all_trained[test_rows][: len(inputs)])


def test_evaluation_shards_count_each_sample_once() -> None:
    dm = WineDataModule(batch_size=4)
    dm.setup()
    seen = []
    for rank in (0, 1):
        dm.trainer = SimpleNamespace(global_rank=rank, world_size=2)  # type: ignore[assignment]
        seen += [len(batch[0]) for batch in dm.val_dataloader()]
        train = dm.train_dataloader()
        assert len(train) == 16 and train.pad  # 124 rows: 62 per process, 4 a batch
    assert sum(seen) == len(dm.split_rows["val"])


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"num_classes": 4}, "data.num_classes=4 but IrisDataModule has 3 classes"),
        ({"input_shape": [5]}, "set data.input_shape=[4]"),
        ({"task": "regression"}, "data.task=regression but IrisDataModule is a classification"),
        ({"num_outputs": 1}, "data.task=regression but IrisDataModule"),
        ({"task": "ranking"}, "data.task='ranking' is not a task"),
        ({"val_fraction": 1.0}, "data.val_fraction=1.0: must be in [0, 1)"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "their sum must be below 1"),
        ({"batch_size": 0}, "data.batch_size=0"),
    ],
)
def test_a_declaration_the_data_contradicts_is_one_line(options: dict, words: str) -> None:
    with pytest.raises(ConfigError) as error:
        IrisDataModule(**options).setup()
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_declaration_that_agrees_passes() -> None:
    IrisDataModule(input_shape=[4], task="classification", num_classes=3).setup()
    DiabetesDataModule(input_shape=[10], task="regression", num_outputs=1).setup()
