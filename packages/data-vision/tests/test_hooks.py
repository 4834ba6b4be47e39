"""The hooks of ``ImageDataModule``: each step of ``setup`` is changed by overriding one."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest
import torch

from pegboard.errors import DataNotFound
from pegboard_data_vision import testing as files
from pegboard_data_vision.base import Decoded as DecodedFromBase
from pegboard_data_vision.base import ImageDataModule
from pegboard_data_vision.datafiles import missing_message
from pegboard_data_vision.decoded import Decoded
from pegboard_data_vision.download import Remote
from pegboard_data_vision.mnist import MNISTDataModule
from pegboard_data_vision.splits import assemble, split_indices, take


class Tiny(ImageDataModule):
    """A dataset written against the hooks alone: 20 grey 2x2 images, 2 classes."""

    name = "tiny"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, 2, 2)

    @property
    def num_classes(self) -> int:
        return 2

    def decode(self) -> Decoded:
        pixels = torch.arange(20, dtype=torch.uint8).view(20, 1, 1, 1).expand(20, 1, 2, 2)
        return Decoded((pixels.clone(), torch.arange(20) % 2), None, ["even", "odd"])


class FirstFive(Tiny):
    """Overrides the split plan only: the first five samples validate, the next five test."""

    def plan_split(self, size: int, given: Collection[str]) -> dict[str, torch.Tensor]:
        order = torch.arange(size)
        return {"train": order[10:], "val": order[:5], "test": order[5:10]}


def test_a_dataset_needs_only_decode_and_its_description() -> None:
    datamodule = Tiny(val_fraction=0.2, batch_size=4)
    datamodule.setup("fit")
    assert [len(datamodule.splits[name][1]) for name in ("train", "val", "test")] == [16, 4, 0]
    inputs, targets = next(iter(datamodule.train_dataloader()))
    assert inputs.shape == (4, 1, 2, 2) and inputs.dtype == torch.float32 and len(targets) == 4
    assert datamodule.class_names == ["even", "odd"]


def test_overriding_the_split_plan_changes_the_split_alone() -> None:
    datamodule = FirstFive()
    datamodule.setup("fit")
    val_pixels, val_labels = datamodule.splits["val"]
    assert val_pixels[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]
    assert val_labels.tolist() == [0, 1, 0, 1, 0]
    assert datamodule.splits["test"][0][:, 0, 0, 0].tolist() == [5, 6, 7, 8, 9]


def test_a_plan_that_leaves_a_split_out_is_refused() -> None:
    train = (torch.zeros(4, 1, 1, 1), torch.zeros(4))
    with pytest.raises(ValueError, match=r"exactly the splits not given \(test\)"):
        assemble(train, {}, {"train": torch.arange(3), "val": torch.arange(3, 4)})


def test_the_split_is_the_one_earlier_versions_made(tmp_path: Path) -> None:
    # Experiments and checkpoints rely on the seeded split staying the same across versions.
    files.write_mnist(tmp_path, train=100)
    datamodule = MNISTDataModule(data_dir=str(tmp_path), val_fraction=0.2, split_seed=7)
    datamodule.setup("fit")
    pixels, labels = datamodule.decode().train
    order, val = split_indices(100, (0.2,), 7)
    assert torch.equal(datamodule.splits["train"][0], pixels[order])
    assert torch.equal(datamodule.splits["val"][1], labels[val])


def test_take_gathers_tensors_and_lists_alike() -> None:
    indices = torch.tensor([2, 0])
    pixels, labels = take((torch.arange(3) * 10, torch.arange(3)), indices)
    assert pixels.tolist() == [20, 0] and labels.tolist() == [2, 0]
    paths, names = take(([Path("a"), Path("b"), Path("c")], [0, 1, 2]), indices)
    assert paths == [Path("c"), Path("a")] and names == [2, 0]


def test_checkpoint_state_keeps_its_keys_and_restores_statistics(tmp_path: Path) -> None:
    files.write_mnist(tmp_path)
    trained = MNISTDataModule(data_dir=str(tmp_path))
    trained.setup("fit")
    state = trained.state_dict()
    assert sorted(state) == ["class_names", "mean", "std"]
    restored = MNISTDataModule(data_dir=str(tmp_path), val_fraction=0.5)
    restored.setup("fit")
    restored.load_state_dict(state)
    assert restored.normalize is not None and restored.normalize.mean == state["mean"]


def test_missing_message_lists_archives_sources_and_folder(tmp_path: Path) -> None:
    remotes = (Remote("pack.tar.gz", "0" * 32, ("https://example.org/d/",), extract=True),)
    message = missing_message("demo", tmp_path, ["a.bin"], remotes, "https://example.org")
    assert "data=demo: 1 of its files are not in" in message and "  a.bin" in message
    assert "unpacked from pack.tar.gz" in message
    assert "https://example.org/d/pack.tar.gz" in message and str(tmp_path.resolve()) in message


def test_missing_files_stop_setup_without_downloading(tmp_path: Path) -> None:
    datamodule = MNISTDataModule(data_dir=str(tmp_path), download=True)
    with pytest.raises(DataNotFound, match="4 of its files are not in"):
        datamodule.setup("fit")  # only prepare_data may download


def test_decoded_is_still_importable_from_base() -> None:
    assert DecodedFromBase is Decoded
