"""ClassificationModel takes class-probability targets (mixup, cutmix) as well as indices."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pegboard.loaders import TensorBatchLoader
from pegboard.tasks import ClassificationModel
from pegboard.testing import quiet_trainer


class _Identity(ClassificationModel):
    """Logits are the inputs themselves, so every expected number is known in advance."""

    def __init__(self) -> None:
        super().__init__(num_classes=3)
        self.net = torch.nn.Identity()
        self.unused = torch.nn.Linear(1, 1)  # an optimizer needs one parameter


LOGITS = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
# Dominant classes 0, 1, 2, 2: the last sample is predicted wrong.
SOFT = torch.tensor([[0.7, 0.3, 0.0], [0.2, 0.8, 0.0], [0.0, 0.4, 0.6], [0.1, 0.0, 0.9]])


def _validate(targets: torch.Tensor, tmp_path) -> dict[str, float]:
    trainer = quiet_trainer(tmp_path)
    trainer.validate(_Identity(), dataloaders=TensorBatchLoader(LOGITS, targets, 4), verbose=False)
    return {name: float(value) for name, value in trainer.callback_metrics.items()}


def test_probability_targets_score_the_dominant_class(tmp_path) -> None:
    metrics = _validate(SOFT, tmp_path)
    assert metrics["val/acc"] == pytest.approx(0.75)
    assert metrics["val/loss"] == pytest.approx(float(F.cross_entropy(LOGITS, SOFT)), rel=1e-5)


def test_one_hot_targets_match_index_targets(tmp_path) -> None:
    labels = torch.tensor([0, 1, 2, 1])
    by_index = _validate(labels, tmp_path)
    one_hot = _validate(F.one_hot(labels, 3).float(), tmp_path)
    assert by_index["val/acc"] == pytest.approx(0.75)
    assert one_hot == pytest.approx(by_index)
