"""Image folders: broken files skipped and reported, memory and streaming alike, the cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard_data_vision import testing as files
from pegboard_data_vision.image_folder import ImageFolderDataModule
from pegboard_data_vision.mnist import MNISTDataModule

COMMON = dict(image_size=[16, 16], num_classes=3, mean=[0.5] * 3, std=[0.25] * 3, batch_size=4)


def all_batches(loader) -> tuple[torch.Tensor, torch.Tensor]:
    inputs, targets = zip(*loader, strict=True)
    return torch.cat(inputs), torch.cat(targets)


def test_broken_files_are_reported_by_path_and_skipped(tmp_path: Path, caplog) -> None:
    broken = files.write_image_folder(tmp_path / "train", broken=True)
    datamodule = ImageFolderDataModule(
        data_dir=str(tmp_path / "train"),
        mode="memory",
        val_fraction=0.0,
        test_fraction=0.0,
        **COMMON,
    )
    with caplog.at_level(logging.WARNING):
        datamodule.setup("fit")
    report = caplog.text
    assert all(str(path) in report for path in broken)
    assert len(datamodule.splits["train"][0]) == 18  # 3 classes x 6 good images
    assert datamodule.class_names == ["cat", "dog", "fox"]


def test_streaming_serves_the_same_images_as_memory(tmp_path: Path, caplog) -> None:
    files.write_image_folder(tmp_path / "train", broken=True)
    files.write_image_folder(tmp_path / "test", per_class=2, seed=1)
    options = dict(data_dir=str(tmp_path / "train"), test_dir=str(tmp_path / "test"), **COMMON)
    memory = ImageFolderDataModule(mode="memory", **options)
    stream = ImageFolderDataModule(mode="stream", num_workers=2, **options)
    memory.setup("fit")
    with caplog.at_level(logging.WARNING):
        stream.setup("fit")
    assert "notes.txt" in caplog.text and "empty.jpg" in caplog.text
    loader = stream.test_dataloader()
    assert isinstance(loader, torch.utils.data.DataLoader) and loader.persistent_workers
    for split in ("val", "test"):
        mem_x, mem_y = all_batches(getattr(memory, f"{split}_dataloader")())
        str_x, str_y = all_batches(getattr(stream, f"{split}_dataloader")())
        assert torch.equal(mem_y, str_y) and torch.allclose(mem_x, str_x)
    train_x, _ = all_batches(stream.train_dataloader())
    # The truncated PNG passes the cheap check; it is reported and replaced when decoded.
    assert len(train_x) == len(stream.splits["train"][0]) and torch.isfinite(train_x).all()


def test_auto_mode_streams_what_does_not_fit(tmp_path: Path) -> None:
    files.write_image_folder(tmp_path / "train")
    datamodule = ImageFolderDataModule(
        data_dir=str(tmp_path / "train"),
        memory_limit_mb=0,
        num_workers=0,
        image_size=[16, 16],
        num_classes=3,
    )
    datamodule.setup("fit")
    assert datamodule.streaming and len(datamodule.normalize.mean) == 3  # sampled statistics


def test_grey_images_and_separate_validation_folder(tmp_path: Path) -> None:
    files.write_image_folder(tmp_path / "train")
    files.write_image_folder(tmp_path / "val", classes=("cat", "fox"), per_class=3)
    datamodule = ImageFolderDataModule(
        data_dir=str(tmp_path / "train"),
        val_dir=str(tmp_path / "val"),
        channels=1,
        image_size=[12, 10],
        num_classes=3,
    )
    datamodule.setup("fit")
    inputs, targets = next(iter(datamodule.val_dataloader()))
    assert inputs.shape == (6, 1, 12, 10) and sorted(set(targets.tolist())) == [0, 2]


def test_folder_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        ImageFolderDataModule(data_dir=str(tmp_path / "none"), num_classes=3).setup("fit")
    files.write_image_folder(tmp_path / "train")
    with pytest.raises(ConfigError, match=r"set data\.num_classes=3"):
        ImageFolderDataModule(data_dir=str(tmp_path / "train"), num_classes=5)
    files.write_image_folder(tmp_path / "test", classes=("cow",), per_class=1)
    with pytest.raises(ConfigError, match="cow is a class the training folder does not have"):
        ImageFolderDataModule(
            data_dir=str(tmp_path / "train"), test_dir=str(tmp_path / "test"), num_classes=3
        ).setup("fit")


def test_cache_serves_a_second_run_without_decoding(tmp_path: Path, monkeypatch) -> None:
    files.write_image_folder(tmp_path / "train")
    first = ImageFolderDataModule(data_dir=str(tmp_path / "train"), cache=True, **COMMON)
    first.setup("fit")
    cached = list((tmp_path / "train" / ".pegboard-cache").glob("image_folder-*.pt"))
    assert len(cached) == 1

    def no_decoding(self):
        raise AssertionError("decoded although a cache exists")

    monkeypatch.setattr(ImageFolderDataModule, "decode", no_decoding)
    second = ImageFolderDataModule(data_dir=str(tmp_path / "train"), cache=True, **COMMON)
    second.setup("fit")
    assert torch.equal(first.splits["train"][0], second.splits["train"][0])
    # Another image size is another cache entry, decoded afresh.
    other = ImageFolderDataModule(
        data_dir=str(tmp_path / "train"), cache=True, **{**COMMON, "image_size": [8, 8]}
    )
    with pytest.raises(AssertionError, match="decoded although"):
        other.setup("fit")


def test_cache_follows_changed_source_files(tmp_path: Path) -> None:
    files.write_mnist(tmp_path, train=40)
    MNISTDataModule(data_dir=str(tmp_path), cache=True).setup("fit")
    files.write_mnist(tmp_path, train=50)
    again = MNISTDataModule(data_dir=str(tmp_path), cache=True, val_fraction=0.0)
    again.setup("fit")
    assert len(again.splits["train"][0]) == 50
    assert len(list((tmp_path / ".pegboard-cache").iterdir())) == 2


def test_a_data_dir_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "photos.zip").write_bytes(b"PK")
    with pytest.raises(ConfigError, match=r"photos\.zip is a file, not a folder"):
        ImageFolderDataModule(data_dir=str(tmp_path / "photos.zip"), num_classes=3).setup("fit")
