"""Dataset files are data: a tampered CIFAR pickle is refused, naming the file, and runs nothing."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from pegboard.errors import ConfigError
from pegboard_data_vision import testing as files
from pegboard_data_vision.cifar import CIFAR10DataModule, CIFAR100DataModule, read_batch


class _RunsCode:
    """Unpickles as a call of ``exec``: what an attacker puts into a "dataset"."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _plant(path: Path, payload: object, protocol: int) -> None:
    with path.open("wb") as handle:
        pickle.dump(payload, handle, protocol=protocol)


@pytest.mark.parametrize("protocol", [2, pickle.DEFAULT_PROTOCOL])
@pytest.mark.parametrize("name", ["data_batch_3", "test_batch", "batches.meta"])
def test_a_batch_that_would_run_code_is_refused_naming_the_file(tmp_path, name, protocol):
    root = files.write_cifar10(tmp_path)
    marker = tmp_path / "ran"
    hostile = {"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1], "x": _RunsCode(marker)}
    _plant(root / name, hostile, protocol)
    datamodule = CIFAR10DataModule(data_dir=str(tmp_path), val_fraction=0.0)
    with pytest.raises(ConfigError) as error:
        datamodule.decode()
        datamodule._names("label_names", [])
    message = str(error.value)
    assert (
        str(root / name) in message
        and ".exec, which a data file has no need of" in message
        and "refused" in message
    )
    assert "\n" not in message
    assert not marker.exists()


def test_cifar100_meta_is_read_with_the_same_guard(tmp_path):
    files.write_cifar100(tmp_path)
    root = tmp_path / "cifar-100-python"
    marker = tmp_path / "ran"
    _plant(root / "meta", {"fine_label_names": _RunsCode(marker)}, 2)
    with pytest.raises(ConfigError, match=r"\.exec, which a data file"):
        read_batch(root / "meta")
    assert not marker.exists() and CIFAR100DataModule is not None


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_real_batches_in_every_protocol_still_read(tmp_path, protocol):
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    path = tmp_path / "data_batch_1"
    batch = {"batch_label": "training batch 1 of 5", "labels": [3, 7], "data": data}
    _plant(path, batch, protocol)
    read = read_batch(path)
    assert read["labels"] == [3, 7] and np.array_equal(read["data"], data)


def test_a_file_that_is_not_a_dictionary_is_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    _plant(path, [1, 2, 3], 2)
    with pytest.raises(ConfigError, match="holds no dictionary"):
        read_batch(path)


def test_a_cifar_batch_without_data_names_what_it_holds(tmp_path):
    root = files.write_cifar10(tmp_path)
    _plant(root / "data_batch_2", {"labels": [1, 2], "batch_label": "x"}, 2)
    datamodule = CIFAR10DataModule(data_dir=str(tmp_path), val_fraction=0.0)
    with pytest.raises(ConfigError, match=r"has no 'data' entry \(it has: batch_label, labels\)"):
        datamodule.decode()


def test_an_idx_file_cut_inside_its_header_is_named(tmp_path):
    from pegboard_data_vision.mnist import read_idx

    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\0\0\x08\x03\0\0")  # magic for 3-d uint8, then two bytes of dims
    with pytest.raises(ConfigError, match="is truncated: it ends inside its header"):
        read_idx(path)
