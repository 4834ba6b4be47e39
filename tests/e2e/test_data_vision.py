"""``pegboard train`` on every file format of the vision data pack, one fast_dev_run step each."""

from __future__ import annotations

from pathlib import Path

import pytest

from pegboard_data_vision import testing as files

FAST = ["trainer.fast_dev_run=true", "~callbacks.progress_bar", "trainer.enable_progress_bar=false"]


def _mnist(folder: Path) -> list[str]:
    files.write_mnist(folder, gz=True)
    return ["data=mnist", "data.augment.mixup_alpha=0.2"]


def _kmnist(folder: Path) -> list[str]:
    files.write_mnist(folder, gz=False)
    return ["data=kmnist", "data.cache=true"]


def _cifar10(folder: Path) -> list[str]:
    files.write_cifar10(folder)
    return ["data=cifar10", "data.augment.cutmix_alpha=1.0", "data.augment.brightness=0.2"]


def _cifar100(folder: Path) -> list[str]:
    files.write_cifar100(folder)
    return ["data=cifar100", "data.labels=coarse", "data.num_classes=20", "data.augment=null"]


def _svhn(folder: Path) -> list[str]:
    files.write_svhn(folder)
    return ["data=svhn", "data.augment.cutout=8"]


def _image_folder(folder: Path) -> list[str]:
    files.write_image_folder(folder, formats=("PNG", "JPEG"), broken=True)
    return ["data=image_folder", "data.num_classes=3", "data.image_size=[16,16]"]


FORMATS = {
    "mnist": _mnist,
    "kmnist": _kmnist,
    "cifar10": _cifar10,
    "cifar100": _cifar100,
    "svhn": _svhn,
    "image_folder": _image_folder,
}


@pytest.mark.parametrize("dataset", sorted(FORMATS))
def test_train_one_step_on_each_format(dataset: str, run_pegboard, tmp_path: Path) -> None:
    folder = tmp_path / "files" / dataset
    overrides = FORMATS[dataset](folder)
    result = run_pegboard("train", *overrides, f"data.data_dir={folder}", *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Test accuracy: " in result.stdout
    if dataset == "image_folder":
        assert "notes.txt" in result.stdout + result.stderr  # the skipped file, by path


def test_synthetic_any_shape(run_pegboard) -> None:
    result = run_pegboard(
        "train",
        "data=synthetic",
        "data.input_shape=[1,12,12]",
        "data.num_classes=4",
        "data.train_size=64",
        "data.test_size=16",
        *FAST,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Test accuracy: " in result.stdout


def test_missing_files_stop_with_one_clear_message(run_pegboard, tmp_path: Path) -> None:
    result = run_pegboard("train", "data=svhn", f"data.data_dir={tmp_path / 'empty'}", *FAST)
    assert result.returncode != 0
    assert "train_32x32.mat" in result.stderr and "data.download=true" in result.stderr
    assert "http://ufldl.stanford.edu/housenumbers/train_32x32.mat" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_check_passes_offline_on_the_data_pack(run_pegboard) -> None:
    # Datasets whose files are not here (no network) are skips with the reason, not fails.
    result = run_pegboard("plugins", "check", "pegboard-data-vision", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[2]: line.split()[3] for line in result.stdout.splitlines()[1:]}
    assert rows["data=digits"] == "pass" and rows["data=cifar10"] == "skip"
    assert "its files are not on this machine" in result.stdout
    assert "plugins check: " in result.stderr and " 0 failed, " in result.stderr
