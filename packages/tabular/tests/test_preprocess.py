"""The feature transform: fitted on the training rows only, by the rules it states."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pegboard.errors import ConfigError
from pegboard_tabular.cells import MISSING_MARKERS, category, is_missing, numbers
from pegboard_tabular.preprocess import CategoricalColumn, FeatureTransform, NumericColumn


def fit(table: dict, train: list[int], **options: object) -> tuple[FeatureTransform, np.ndarray]:
    return FeatureTransform.fit_transform(table, np.array(train), source="t.csv", **options)


def test_every_stated_missing_marker_is_missing_and_nothing_else() -> None:
    assert {"", "NA", "N/A", "NaN", "nan", "null", "None"} == MISSING_MARKERS
    for marker in [*MISSING_MARKERS, " NA ", None, float("nan"), float("inf"), "-inf"]:
        assert is_missing(marker) or np.isnan(numbers([marker])[0][0]), marker
    for present in ["na", "0", "none ", "NULL", "n/a", 0, 0.0, False]:
        assert not is_missing(present), present


def test_numbers_are_standardized_with_the_training_rows_only() -> None:
    transform, out = fit({"x": ["1", "2", "3", "1000"]}, [0, 1, 2])
    (column,) = transform.columns
    assert isinstance(column, NumericColumn)
    assert column.mean == pytest.approx(2.0) and column.std == pytest.approx(np.std([1, 2, 3]))
    assert out.dtype == np.float32 and out.shape == (4, 1)
    assert out[3, 0] == pytest.approx((1000 - 2) / np.std([1, 2, 3]), rel=1e-5)


def test_a_constant_column_has_std_one_and_becomes_zeros() -> None:
    transform, out = fit({"x": [0.1, 0.1, 0.1, 0.1]}, [0, 1, 2, 3])
    assert transform.columns[0].std == 1.0  # type: ignore[union-attr]
    assert np.all(out == 0)


def test_a_missing_number_takes_the_training_median() -> None:
    transform, out = fit({"x": ["1", "2", "10", "", "NA", "100"]}, [0, 1, 2, 3, 4])
    column = transform.columns[0]
    assert isinstance(column, NumericColumn) and column.fill == 2.0  # median of 1, 2, 10
    assert column.mean == pytest.approx(13 / 3)  # cells present only
    expected = (2.0 - column.mean) / column.std
    assert out[3, 0] == pytest.approx(expected) and out[4, 0] == pytest.approx(expected)
    assert transform.width == 1  # no indicator column


def test_text_is_one_hot_over_the_sorted_training_categories() -> None:
    cells = ["red", "blue", " red ", "", "green", "pink"]
    transform, out = fit({"color": cells}, [0, 1, 2, 3])
    column = transform.columns[0]
    assert isinstance(column, CategoricalColumn)
    # green and pink are not in the training rows; the missing cell gets its own column.
    assert column.categories == ("blue", "red", "<missing>")
    assert transform.feature_names == ["color=blue", "color=red", "color=<missing>"]
    assert out.tolist() == [[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]


def test_a_missing_cell_unseen_in_training_is_all_zeros() -> None:
    transform, out = fit({"color": ["red", "blue", "None"]}, [0, 1])
    assert transform.feature_names == ["color=blue", "color=red"]
    assert out[2].tolist() == [0, 0]


def test_columns_named_categorical_are_one_hot_even_when_numeric() -> None:
    table = {"zip": [10115, 10115.0, 80331], "rooms": ["3", "4", "3"]}
    transform, out = fit(table, [0, 1, 2], categorical=["zip"])
    assert transform.feature_names == ["zip=10115", "zip=80331", "rooms"]
    assert out[:, :2].tolist() == [[1, 0], [1, 0], [0, 1]]


def test_booleans_and_mixed_text_make_a_column_categorical() -> None:
    transform, _ = fit({"flag": [True, False, True], "mixed": ["1", "2", "x"]}, [0, 1, 2])
    assert transform.feature_names == ["flag=False", "flag=True", "mixed=1", "mixed=2", "mixed=x"]
    assert category(3.0) == "3" and category(2.5) == "2.5" and category(" a ") == "a"


def test_the_fit_round_trips_through_plain_json() -> None:
    table = {"x": ["1", "", "3", "8"], "color": ["a", "b", "", "c"]}
    transform, out = fit(table, [0, 1, 2])
    state = json.loads(json.dumps(transform.to_dict()))
    again = FeatureTransform.from_dict(state)
    assert again.feature_names == transform.feature_names
    np.testing.assert_array_equal(again.transform(table, "t.csv"), out)


def test_transform_reads_columns_by_name_and_ignores_others() -> None:
    transform, out = fit({"a": [1.0, 2.0], "b": ["x", "y"]}, [0, 1])
    shuffled = {"extra": ["?", "?"], "b": ["x", "y"], "a": ["1", "2"]}
    np.testing.assert_array_equal(transform.transform(shuffled, "new.csv"), out)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda t: t.transform({"a": [1.0]}, "new.csv"), "new.csv lacks the feature column b"),
        (lambda t: t.transform({"a": ["big"], "b": ["x"]}, "n.csv"), "holds 'big'"),
        (lambda t: FeatureTransform.from_dict({"columns": [{"kind": "numeric"}]}), "malformed"),
    ],
)
def test_bad_input_to_a_fitted_transform_is_one_line(call: object, words: str) -> None:
    transform, _ = fit({"a": [1.0, 2.0], "b": ["x", "y"]}, [0, 1])
    with pytest.raises(ConfigError) as error:
        call(transform)  # type: ignore[operator]
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_column_without_values_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"column 'empty' of t.csv has no values.*data.drop"):
        fit({"a": [1, 2], "empty": ["", "NA"]}, [0, 1])


def test_too_many_categories_suggest_dropping_an_identifier() -> None:
    ids = [f"id{i}" for i in range(20)]
    with pytest.raises(ConfigError, match=r"20 distinct values.*max_categories=10.*data.drop"):
        fit({"id": ids}, list(range(20)), max_categories=10)
