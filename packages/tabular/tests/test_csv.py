"""A user's own table: CSV and Parquet, text and missing cells, task inference, predict."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tabular_tables import HOUSE_COLUMNS, houses_rows, write_csv

from pegboard.errors import ConfigError
from pegboard.supervision import Classes, Values
from pegboard_tabular.csv_data import CsvDataModule


def houses(path: Path, **options: object) -> CsvDataModule:
    return CsvDataModule(path=str(path), target="label", drop=["id"], **options)  # type: ignore[arg-type]


def test_a_csv_with_text_and_missing_cells(houses_csv: Path) -> None:
    dm = houses(houses_csv)
    # Described before setup, as the runner asks: size, rooms, then one column per color.
    assert dm.target == Classes(2, ("cheap", "dear"))
    names = dm.feature_names
    assert names[:2] == ["size", "rooms"] and "color=<missing>" in names
    assert dm.input_shape == (len(names),)
    dm.setup("fit")
    inputs, targets = next(iter(dm.train_dataloader()))
    assert inputs.dtype == torch.float32 and not torch.isnan(inputs).any()
    assert targets.dtype == torch.int64


def test_the_transform_is_fitted_on_the_training_rows_only(houses_csv: Path) -> None:
    placed = []
    for seed in (0, 4):  # row 0, the only purple house, is trained on with seed 0 only
        dm = houses(houses_csv, split_seed=seed)
        dm.setup()
        placed.append(0 in dm.split_rows["train"])
        assert ("color=purple" in dm.feature_names) == placed[-1]
        sizes = [float(row[1]) for row in houses_rows() if row[1]]
        train_sizes = [float(houses_rows()[i][1]) for i in dm.split_rows["train"] if i % 7 != 3]
        size = dm.state_dict()["features"]["columns"][0]
        assert size["mean"] == pytest.approx(np.mean(train_sizes))
        assert size["mean"] != pytest.approx(np.mean(sizes))
        assert size["fill"] == pytest.approx(np.median(train_sizes))
    assert placed == [True, False]


def _checkpointed(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_predict_reads_a_new_file_with_the_saved_transform(
    houses_csv: Path, tmp_path: Path
) -> None:
    trained = houses(houses_csv)
    trained.setup()
    state = _checkpointed(trained.state_dict())
    test_rows = trained.split_rows["test"]
    rows = [houses_rows()[i] for i in test_rows]
    # No target, an extra column, the columns in another order.
    new = write_csv(
        tmp_path / "new.csv",
        ["note", "color", "rooms", "size", "id"],
        [["x", row[3], row[2], row[1], row[0]] for row in rows],
    )
    houses_csv.unlink()  # predict runs where the training file is gone

    restored = houses(houses_csv)
    restored.load_state_dict(state)
    assert restored.input_shape == trained.input_shape and restored.target == trained.target
    got = restored.predict_inputs(new)
    torch.testing.assert_close(got.inputs, trained._prepare()["test"][0])
    assert got.rows[0] == {"note": "x", "color": rows[0][3], "rooms": rows[0][2],
                           "size": rows[0][1], "id": rows[0][0]}  # fmt: skip


def test_an_unseen_category_is_all_zeros_in_its_columns(houses_csv: Path, tmp_path: Path) -> None:
    dm = houses(houses_csv)
    new = write_csv(tmp_path / "new.csv", ["size", "rooms", "color"], [["60", "2", "orange"]])
    inputs = dm.predict_inputs(new).inputs
    colors = [i for i, name in enumerate(dm.feature_names) if name.startswith("color=")]
    assert inputs[0, colors].tolist() == [0.0] * len(colors)


def test_a_missing_feature_column_in_predict_is_named(houses_csv: Path, tmp_path: Path) -> None:
    dm = houses(houses_csv)
    new = write_csv(tmp_path / "new.csv", ["size", "label"], [["60", "dear"]])
    with pytest.raises(Exception, match=r"new.csv lacks the feature columns rooms, color"):
        dm.predict_inputs(new)


def test_rows_without_a_target_are_dropped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = houses_rows()
    for i in (4, 9, 20):
        rows[i][4] = "" if i != 9 else "N/A"
    dm = houses(write_csv(tmp_path / "h.csv", HOUSE_COLUMNS, rows))
    with caplog.at_level(logging.WARNING):
        dm.setup()
    assert "Dropped 3 of 60 rows of h.csv whose target label is missing" in caplog.text
    assert sum(len(idx) for idx in dm.split_rows.values()) == 57


@pytest.mark.parametrize(
    ("cells", "task", "classes"),
    [
        (["a", "b", "a", "c"], "classification", ["a", "b", "c"]),
        (["true", "false", "true", "true"], "classification", ["false", "true"]),
        (["10", "2", "2.0", "10"], "classification", ["2", "10"]),  # numeric order; 2 == 2.0
        ([str(i % 11) for i in range(4)], "classification", ["0", "1", "2", "3"]),
        ([str(i) for i in range(11)], "regression", None),  # 11 whole numbers: values
        (["1.5", "2", "3", "2"], "regression", None),
    ],
)
def test_the_task_follows_the_target_column(
    tmp_path: Path, cells: list[str], task: str, classes: list[str] | None
) -> None:
    rows = [[str(i), cell] for i, cell in enumerate(cells * 5)]
    dm = CsvDataModule(str(write_csv(tmp_path / "t.csv", ["x", "y"], rows)), "y")
    assert dm.target.task == task
    if classes is not None:
        assert dm.class_names == classes


def test_data_task_overrides_the_inference(tmp_path: Path) -> None:
    rows = [[str(i), str(1 + i % 5)] for i in range(30)]
    path = write_csv(tmp_path / "ratings.csv", ["x", "stars"], rows)
    assert CsvDataModule(str(path), "stars").target == Classes(5, ("1", "2", "3", "4", "5"))
    dm = CsvDataModule(str(path), "stars", task="regression")
    dm.setup()
    assert isinstance(dm.target, Values) and dm._prepare()["train"][1].shape[1] == 1


def test_several_target_columns_are_regressed_together(tmp_path: Path) -> None:
    rows = [[str(i), str(i * 2.5), str(-i)] for i in range(40)]
    path = write_csv(tmp_path / "t.csv", ["x", "a", "b"], rows)
    dm = CsvDataModule(str(path), ["a", "b"], batch_size=8)
    target = dm.target
    assert isinstance(target, Values) and target.names == ("a", "b") and target.count == 2
    dm.setup()
    _, targets = next(iter(dm.val_dataloader()))
    assert targets.dtype == torch.float32 and targets.shape == (4, 2)


def test_a_utf8_bom_and_a_tsv_are_read(tmp_path: Path) -> None:
    text = "\ufeffname\tlabel\n" + "".join(f"n{i % 3}\t{'ab'[i % 2]}\n" for i in range(20))
    path = tmp_path / "t.tsv"
    path.write_text(text, encoding="utf-8")
    assert CsvDataModule(str(path), "label").feature_names == ["name=n0", "name=n1", "name=n2"]


def test_parquet_gives_what_the_same_csv_gives(houses_csv: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
    import pyarrow.parquet as pq

    rows = houses_rows()
    columns = {
        "id": [row[0] for row in rows],
        "size": [float(row[1]) if row[1] else None for row in rows],
        "rooms": [int(row[2]) for row in rows],
        "color": [None if row[3] == "NA" else row[3] for row in rows],
        "label": [row[4] for row in rows],
    }
    path = tmp_path / "houses.parquet"
    pq.write_table(pa.table(columns), path)
    from_csv, from_parquet = houses(houses_csv), houses(path)
    from_csv.setup()
    from_parquet.setup()
    assert from_parquet.state_dict() == from_csv.state_dict()
    for split in ("train", "val", "test"):
        torch.testing.assert_close(from_parquet._prepare()[split], from_csv._prepare()[split])
    got = from_csv.predict_inputs(path)  # predict reads Parquet too, typed values as rows
    assert got.inputs.shape == (60, from_csv.input_shape[0]) and got.rows[0]["rooms"] == 1


def test_parquet_without_pyarrow_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(Exception, match=r"^reading t.parquet needs pyarrow: pip install "):
        CsvDataModule(str(path), "y").setup()


HEADER = "id,size,rooms,color,label\n"
GOOD = "".join(f"h{i},{50 + i},{1 + i % 3},{'rgb'[i % 3]},{'ab'[i % 2]}\n" for i in range(30))


@pytest.mark.parametrize(
    ("name", "content", "options", "words"),
    [
        ("absent.csv", None, {}, "absent.csv does not exist"),
        ("folder.csv", "dir", {}, "folder.csv is not a file"),
        ("t.xlsx", b"PK\x03\x04", {}, "t.xlsx: cannot tell its format from its suffix"),
        ("t.csv", HEADER + GOOD, {"target": "price"},
         "data.target='price' is not a column of t.csv; columns: id, size, rooms, color, label"),
        ("t.csv", HEADER + GOOD, {"drop": ["idd", "x"]}, "data.drop=[idd, x] are not columns"),
        ("t.csv", HEADER + GOOD, {"categorical": ["id"]},
         "data.categorical names 'id', which is not a feature column of t.csv"),
        ("t.csv", HEADER + GOOD, {"drop": ["id", "label"]}, "data.drop lists the target label"),
        ("t.csv", HEADER + GOOD, {"target": ["size", "label"], "task": "classification"},
         "data.task=classification takes one target column, not 2"),
        ("t.csv", HEADER + GOOD, {"task": "regression"},
         "target column 'label' of t.csv holds text, such as 'a': regression needs numbers"),
        ("t.csv", "", {}, "t.csv is empty: a table needs a header row"),
        ("t.csv", HEADER, {}, "t.csv has a header but no data rows"),
        ("t.csv", bytes(range(256)) * 4, {}, "t.csv is not UTF-8 text"),
        ("t.csv", "\x00\x01\x7f junk \x00\n\x02\n", {}, "data.target='label' is not a column"),
        ("t.csv", HEADER + GOOD + "h9,1,2\n", {},
         "line 32 of t.csv has 3 fields but its header has 5"),
        ("t.csv", "a,b,a\n1,2,3\n", {"target": "b"}, "t.csv has more than one column named a"),
        ("t.csv", HEADER + GOOD + "x," + "9" * 200_000 + ",1,r,a\n", {}, "t.csv is not a readable"),
        ("t.csv", HEADER.replace("color", "note") + GOOD.replace(",r,", ",,").replace(",g,", ",NA,")
         .replace(",b,", ",null,"), {}, "column 'note' of t.csv has no values"),
        ("t.csv", HEADER + "".join(GOOD.splitlines(True)[:2]), {},
         "t.csv has 2 usable rows: too few for data.val_fraction"),
        ("t.csv", HEADER + GOOD.replace(",a\n", ",\n").replace(",b\n", ",NA\n"), {},
         "every row of t.csv lacks its target label"),
        ("t.csv", HEADER + GOOD.replace(",b\n", ",a\n"), {}, "has 1 class (a): classification"),
        ("t.csv", "id,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20)),
         {"drop": ["id"]}, "t.csv has no feature columns besides the target label"),
        ("t.parquet", b"PAR1" + bytes(range(256)) + b"PAR1", {},
         "t.parquet is not a readable Parquet"),
        ("t.csv", '"a\nb",label\n1,x\n2,y\n', {"target": "price"}, "columns: 'a\\nb', label"),
        ("t.csv", HEADER + GOOD, {"max_categories": 0}, "data.max_categories=0"),
        ("t.csv", HEADER + GOOD, {"target": []}, "data.target=[]: give one column name"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_what_is_wrong(
    tmp_path: Path, name: str, content: str | bytes | None, options: dict, words: str
) -> None:
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow", reason="Parquet needs the parquet extra (pyarrow)")
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    options = {"target": "label", "drop": ["id"], **options}
    with pytest.raises(ConfigError) as error:
        CsvDataModule(path=str(path), val_fraction=0.2, **options).setup()
    assert words in str(error.value)
    assert "\n" not in str(error.value)


def test_a_malformed_saved_state_is_one_line(houses_csv: Path) -> None:
    dm = houses(houses_csv)
    for state in ({"features": {"columns": [{"kind": "?"}]}}, {"features": 3}, {"task": "x"}):
        with pytest.raises(ConfigError) as error:
            dm.load_state_dict({"task": "classification", "target_names": ["label"], **state})
        assert "malformed" in str(error.value) and "\n" not in str(error.value)


def test_evaluating_another_file_keeps_the_trained_classes(tmp_path: Path) -> None:
    rows = [[str(i), str(1 + i % 3)] for i in range(30)]
    trained = CsvDataModule(str(write_csv(tmp_path / "a.csv", ["x", "stars"], rows)), "stars")
    trained.setup()
    state = _checkpointed(trained.state_dict())
    # Another file with fewer classes, written as floats: indices still follow training.
    other = [[str(i), "3.0" if i % 2 else "2"] for i in range(30)]
    evaluated = CsvDataModule(str(write_csv(tmp_path / "b.csv", ["x", "stars"], other)), "stars")
    evaluated.setup()
    assert evaluated.class_names == ["2", "3"]  # fitted on its own data first
    evaluated.load_state_dict(state)
    assert evaluated.class_names == ["1", "2", "3"]
    served = torch.cat([split[1] for split in evaluated._prepare().values()])
    assert set(served.tolist()) == {1, 2}
    unknown = write_csv(tmp_path / "c.csv", ["x", "stars"], [[str(i), "7"] for i in range(30)])
    stranger = CsvDataModule(str(unknown), "stars", task="classification")
    stranger.load_state_dict(state)
    with pytest.raises(ConfigError, match=r"has target stars='7', not one of the classes 1, 2, 3"):
        stranger.setup()
