"""ClassificationModel's metrics: exact epoch means, step losses on the logging cadence."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.loggers import CSVLogger
from test_task_features import TinyConvNet

from pegboard.testing import quiet_trainer
from pegboard.testing.datamodule import RandomImageDataModule


def _data(batch_size: int = 4) -> RandomImageDataModule:
    return RandomImageDataModule((2, 8, 8), 4, num_samples=10, batch_size=batch_size, seed=0)


def test_validation_means_weight_each_sample_equally(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model, data = TinyConvNet(), _data(batch_size=4)  # batches of 4, 4 and 2
    (result,) = quiet_trainer(tmp_path).validate(model, datamodule=data, verbose=False)
    inputs, targets = data.splits["val"]
    with torch.no_grad():
        logits = model.eval()(inputs)
    expected_loss = F.cross_entropy(logits, targets).item()
    expected_accuracy = (logits.argmax(dim=1) == targets).float().mean().item()
    assert result["val/loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert result["val/acc"] == pytest.approx(expected_accuracy, rel=1e-6)


def test_step_loss_follows_log_every_n_steps_and_epochs_get_means(tmp_path: Path) -> None:
    torch.manual_seed(0)
    logger = CSVLogger(tmp_path, name="run")
    trainer = quiet_trainer(tmp_path, logger=logger, max_epochs=2, log_every_n_steps=2)
    trainer.fit(TinyConvNet(), datamodule=_data(batch_size=2))  # 5 steps per epoch
    rows = list(csv.DictReader((Path(logger.log_dir) / "metrics.csv").open()))
    step_rows = [int(row["step"]) for row in rows if row.get("train/loss_step")]
    assert step_rows == [1, 3, 5, 7, 9]
    epoch_rows = [row for row in rows if row.get("train/loss")]
    assert [row["epoch"] for row in epoch_rows] == ["0", "1"]
    assert all(0.0 <= float(row["train/acc"]) <= 1.0 for row in epoch_rows)
    assert len([row for row in rows if row.get("val/loss")]) == 2


class SaveAtStep(pl.Callback):
    def __init__(self, step: int, path: Path) -> None:
        self.step, self.path = step, path

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.step:
            trainer.save_checkpoint(self.path)


def test_resuming_mid_epoch_reports_the_whole_epoch_means(tmp_path: Path) -> None:
    checkpoint = tmp_path / "mid.ckpt"
    torch.manual_seed(0)
    straight = quiet_trainer(
        tmp_path, max_epochs=1, limit_val_batches=0, callbacks=[SaveAtStep(2, checkpoint)]
    )
    straight.fit(TinyConvNet(), datamodule=_data(batch_size=2))
    assert checkpoint.exists()

    resumed = quiet_trainer(tmp_path, max_epochs=1, limit_val_batches=0)
    resumed.fit(TinyConvNet(), datamodule=_data(batch_size=2), ckpt_path=checkpoint)
    for name in ("train/loss", "train/acc"):
        expected = straight.callback_metrics[name]
        assert torch.allclose(resumed.callback_metrics[name], expected), name


def test_resuming_after_an_epoch_starts_the_next_epochs_sums_afresh(tmp_path: Path) -> None:
    torch.manual_seed(0)
    straight = quiet_trainer(tmp_path, max_epochs=2, limit_val_batches=0)
    straight.fit(TinyConvNet(), datamodule=_data(batch_size=2))

    torch.manual_seed(0)
    first = quiet_trainer(tmp_path, max_epochs=1, limit_val_batches=0)
    first.fit(TinyConvNet(), datamodule=_data(batch_size=2))
    checkpoint = tmp_path / "epoch0.ckpt"
    first.save_checkpoint(checkpoint)
    resumed = quiet_trainer(tmp_path, max_epochs=2, limit_val_batches=0)
    resumed.fit(TinyConvNet(), datamodule=_data(batch_size=2), ckpt_path=checkpoint)
    for name in ("train/loss", "train/acc"):
        expected = straight.callback_metrics[name]
        assert torch.allclose(resumed.callback_metrics[name], expected), name
