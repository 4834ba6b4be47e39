"""What pegboard relies on inside Lightning and torch still holds for the installed versions."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from pegboard._compat import (
    CALLBACKS_KEY,
    LEAFSPEC_WARNING,
    STATE_DICT_KEY,
    datamodule_state_key,
    foreach_lerp_,
    module_from_checkpoint,
    saved_hyperparameters,
)
from pegboard.testing.models import LinearClassifier


class PlainModule(pl.LightningModule):
    """A LightningModule as users write them: save_hyperparameters and a load hook."""

    def __init__(self, width: int = 3, note: str = "x") -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = nn.Linear(4, width)
        self.loaded_extra: Any = None

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.loaded_extra = checkpoint.get("extra")

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self.layer(batch[0]).sum()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class ConfigModule(pl.LightningModule):
    """Hyperparameters saved as one named argument: ``save_hyperparameters(config)``."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters(config)
        self.layer = nn.Linear(2, int(config["width"]))


class StatefulData(pl.LightningDataModule):
    def __init__(self) -> None:
        super().__init__()
        self.mean = [0.5]

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.mean = state_dict["mean"]

    def train_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(torch.randn(4, 4)), batch_size=2)


def _same_as_lightning(cls: Any, model: pl.LightningModule, path: Path) -> pl.LightningModule:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    ours = module_from_checkpoint(cls, checkpoint)
    theirs = cls.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    assert dict(ours.hparams) == dict(theirs.hparams) == dict(model.hparams)
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    return ours


def test_rebuilding_from_a_read_checkpoint_matches_load_from_checkpoint(tmp_path: Path) -> None:
    trainer = pl.Trainer(max_steps=1, logger=False, enable_checkpointing=False, barebones=True)
    plain = PlainModule(width=5, note="kept")
    trainer.fit(plain, train_dataloaders=DataLoader(TensorDataset(torch.randn(4, 4)), 2))
    path = tmp_path / "plain.ckpt"
    trainer.save_checkpoint(path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["extra"] = "from the file"
    torch.save(checkpoint, path)
    rebuilt = _same_as_lightning(PlainModule, plain, path)
    assert rebuilt.loaded_extra == "from the file"  # on_load_checkpoint ran, as in Lightning

    kit = LinearClassifier(input_shape=[1, 2, 2], num_classes=3)
    named = ConfigModule({"width": 4})
    for module, name in ((kit, "kit"), (named, "named")):
        saved = {
            STATE_DICT_KEY: module.state_dict(),
            module.CHECKPOINT_HYPER_PARAMS_KEY: dict(module.hparams),
            "pytorch-lightning_version": pl.__version__,
        }
        if module is named:
            saved[module.CHECKPOINT_HYPER_PARAMS_NAME] = "config"
        torch.save(saved, tmp_path / f"{name}.ckpt")
        _same_as_lightning(type(module), module, tmp_path / f"{name}.ckpt")


def test_lightning_keeps_datamodule_state_and_callbacks_under_these_keys(tmp_path: Path) -> None:
    trainer = pl.Trainer(max_steps=1, logger=False, default_root_dir=tmp_path, barebones=False)
    trainer.fit(PlainModule(), datamodule=StatefulData())
    trainer.save_checkpoint(tmp_path / "run.ckpt")
    checkpoint = torch.load(tmp_path / "run.ckpt", weights_only=True)
    assert checkpoint[datamodule_state_key(StatefulData)] == {"mean": [0.5]}
    assert STATE_DICT_KEY in checkpoint
    assert any(str(key).startswith("ModelCheckpoint") for key in checkpoint[CALLBACKS_KEY])
    assert saved_hyperparameters(checkpoint) == {"width": 3, "note": "x"}


def test_the_leafspec_warning_pegboard_silences_still_reads_so() -> None:
    from torch.utils._pytree import LeafSpec  # the class Lightning checks on every batch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LeafSpec()
    assert any(str(w.message).startswith(LEAFSPEC_WARNING) for w in caught)


def test_fused_lerp_exists_and_moves_every_tensor() -> None:
    assert callable(getattr(torch, "_foreach_lerp_", None))
    ends, targets = [torch.zeros(3), torch.ones(2)], [torch.ones(3), torch.zeros(2)]
    foreach_lerp_(ends, targets, 0.25)
    assert torch.allclose(ends[0], torch.full((3,), 0.25))
    assert torch.allclose(ends[1], torch.full((2,), 0.75))
