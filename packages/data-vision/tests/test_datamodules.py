"""Every dataset reads small files in its real format and serves batches as declared."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from pegboard import testing as kit
from pegboard.errors import ConfigError
from pegboard.runner.validate import check_node
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard_data_vision import testing as files
from pegboard_data_vision.cifar import CIFAR10DataModule, CIFAR100DataModule
from pegboard_data_vision.mnist import MNISTDataModule, read_idx
from pegboard_data_vision.svhn import read_mat

PLUGIN = "pegboard_data_vision._plugin:plugin"


def build(option: str, tmp_path: Path, *overrides: str):
    """The datamodule that ``data=<option>`` builds, with its config node."""
    # ~model: a data test needs no model, nor the models pack.
    with compose_config(
        ["~model", f"data={option}", f"paths.data_dir={tmp_path / 'data'}", *overrides],
        ["pegboard_data_vision.conf", KIT_CONFIGS],
        tmp_path,
    ) as cfg:
        node = OmegaConf.to_container(cfg.data, resolve=True)
    check_node(node, "data")
    return instantiate(node, _convert_="all"), node


# Every dataset's own file format, read through its config, is checked by the conformance
# suite (test_conformance.py); here, what it does not cover.


@pytest.mark.parametrize(("labels", "classes"), [("fine", 100), ("coarse", 20)])
def test_cifar100(labels: str, classes: int, tmp_path: Path) -> None:
    files.write_cifar100(tmp_path / "c")
    overrides = [
        f"data.data_dir={tmp_path / 'c'}",
        f"data.labels={labels}",
        f"data.num_classes={classes}",
    ]
    kit.check_datamodule(PLUGIN, "cifar100", tmp_path, overrides)
    datamodule, _ = build("cifar100", tmp_path, *overrides)
    datamodule.setup("fit")
    assert datamodule.class_names[:2] == [f"{labels}0", f"{labels}1"]  # from the meta file


def test_synthetic_in_another_shape(tmp_path: Path) -> None:
    overrides = ["data.input_shape=[1,16,16]", "data.num_classes=4"]
    kit.check_datamodule(
        PLUGIN, "synthetic", tmp_path, ["data.train_size=64", "data.test_size=16", *overrides]
    )


def test_readers_decode_the_formats_exactly(tmp_path: Path) -> None:
    files.write_mnist(tmp_path / "gz", gz=True, seed=3)
    files.write_mnist(tmp_path / "raw", gz=False, seed=3)
    packed = read_idx(tmp_path / "gz" / "train-images-idx3-ubyte.gz")
    assert packed.shape == (64, 28, 28)
    assert np.array_equal(packed, read_idx(tmp_path / "raw" / "train-images-idx3-ubyte"))
    files.write_svhn(tmp_path / "svhn", train=12)
    images, labels = read_mat(tmp_path / "svhn" / "train_32x32.mat")
    assert images.shape == (12, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]  # SVHN's 10 is digit 0
    from scipy.io import loadmat

    raw = loadmat(tmp_path / "svhn" / "train_32x32.mat")["X"]
    assert torch.equal(images[5, 2], torch.from_numpy(raw[:, :, 2, 5]))  # pixel layout


def test_cifar_pixels_are_channel_major(tmp_path: Path) -> None:
    root = files.write_cifar10(tmp_path)
    datamodule = CIFAR10DataModule(data_dir=str(tmp_path), val_fraction=0.0)
    decoded = datamodule.decode()
    from pegboard_data_vision.cifar import read_batch

    row = np.asarray(read_batch(root / "data_batch_1")["data"][0])
    assert torch.equal(decoded.train[0][0, 1].flatten(), torch.from_numpy(row[1024:2048]))
    assert len(decoded.train[0]) == 80 and datamodule._names("label_names", [])[0] == "airplane"


def test_missing_files_name_the_files_the_source_and_the_folder(tmp_path: Path) -> None:
    datamodule, _ = build("mnist", tmp_path, f"data.data_dir={tmp_path / 'none'}")
    with pytest.raises(ConfigError) as error:
        datamodule.prepare_data()
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in message
    assert str((tmp_path / "none").resolve()) in message and "data.download=true" in message


def test_a_cifar_archive_put_by_hand_is_unpacked(tmp_path: Path) -> None:
    source = files.write_cifar10(tmp_path / "made")
    (tmp_path / "c").mkdir()
    files.tar_folder(source, tmp_path / "c" / "cifar-10-python.tar.gz")
    datamodule = CIFAR10DataModule(data_dir=str(tmp_path / "c"))
    datamodule.prepare_data()
    datamodule.setup("fit")
    assert (tmp_path / "c" / "cifar-10-batches-py" / "test_batch").is_file()
    shutil.rmtree(tmp_path / "made")


def test_declared_shape_and_classes_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"set data.num_classes=100"):
        CIFAR100DataModule(data_dir=str(tmp_path), num_classes=10)
    with pytest.raises(ConfigError, match=r"set data.input_shape=\[1, 28, 28\]"):
        MNISTDataModule(data_dir=str(tmp_path), input_shape=[3, 32, 32])


def test_config_typos_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Did you mean data\.batch_size"):
        build("cifar100", tmp_path, "+data.bach_size=3")
    # Raised inside the constructor; the runner turns hydra's wrapper back into the message.
    with pytest.raises(Exception, match=r"data\.augment\.flipp is not an augmentation option"):
        build("cifar10", tmp_path, "+data.augment.flipp=true")


def test_split_is_seeded_and_disjoint(tmp_path: Path) -> None:
    files.write_mnist(tmp_path, train=100)

    def split(seed: int) -> dict[str, torch.Tensor]:
        datamodule = MNISTDataModule(data_dir=str(tmp_path), val_fraction=0.2, split_seed=seed)
        datamodule.setup("fit")
        return {name: pixels for name, (pixels, _) in datamodule.splits.items()}

    first, again, other = split(0), split(0), split(1)
    assert len(first["train"]) == 80 and len(first["val"]) == 20 and len(first["test"]) == 32
    assert torch.equal(first["val"], again["val"])
    assert not torch.equal(first["val"], other["val"])
    rows = {tuple(image.flatten().tolist()) for image in first["train"]}
    assert not any(tuple(image.flatten().tolist()) in rows for image in first["val"])


def test_normalization_uses_the_configured_or_the_training_statistics(tmp_path: Path) -> None:
    files.write_mnist(tmp_path)
    fixed = MNISTDataModule(data_dir=str(tmp_path), mean=[0.5], std=[0.25])
    fixed.setup("fit")
    inputs, _ = next(iter(fixed.test_dataloader()))  # the test split is not shuffled
    pixels, _ = fixed.splits["test"]
    assert inputs.dtype == torch.float32
    assert torch.allclose(inputs, (pixels[: len(inputs)].float() / 255 - 0.5) / 0.25, atol=1e-5)
    computed = MNISTDataModule(data_dir=str(tmp_path), batch_size=1000)
    computed.setup("fit")
    train_inputs, _ = next(iter(computed.train_dataloader()))
    assert abs(float(train_inputs.mean())) < 1e-4 and abs(float(train_inputs.std()) - 1) < 1e-2
    state = computed.state_dict()
    assert state["class_names"] == [str(d) for d in range(10)] and len(state["mean"]) == 1
