"""What a supervised task trains and measures: its loss, its epoch sums, its metrics.

``SupervisedModel`` runs the steps; an objective says, for one task, how a batch's
outputs and targets become a loss, the sums an epoch adds up, and the metrics logged
from those sums. Sums, not per-batch means, so that an epoch's metrics (and their sum
over DDP processes) count each sample once.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from pegboard.supervision import CLASSIFICATION, REGRESSION

#: Losses each task takes from config (``model.loss``); the first is the default.
LOSSES = {CLASSIFICATION: ("cross_entropy",), REGRESSION: ("mse", "huber")}


class ClassificationObjective:
    """Cross-entropy on class logits; accuracy counts the most probable class.

    Targets are class indices ``(batch,)`` or class probabilities ``(batch, classes)``
    (what mixup and cutmix give); accuracy then scores the dominant class.

    Args:
        num_classes: Number of classes.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``, for training only.
    """

    task = CLASSIFICATION
    sum_names = ("loss_sum", "correct")
    #: Logged metrics shown on the progress bar, per stage.
    progress: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("loss",),
        "val": ("loss", "acc"),
        "test": ("acc",),
    }

    def __init__(self, num_classes: int, label_smoothing: float = 0.0) -> None:
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.outputs = num_classes
        self.label_smoothing = label_smoothing

    def labels(self, targets: torch.Tensor) -> torch.Tensor:
        """Class indices of the targets (the dominant class of soft targets).

        Args:
            targets: Indices ``(batch,)`` or probabilities ``(batch, classes)``.
        """
        return targets.argmax(dim=1) if targets.ndim == 2 else targets

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, stage: str) -> torch.Tensor:
        """Cross-entropy, label-smoothed in training.

        Args:
            outputs: Logits ``(batch, classes)``.
            targets: Indices or probabilities.
            stage: ``train``, ``val`` or ``test``.
        """
        smoothing = self.label_smoothing if stage == "train" else 0.0
        return F.cross_entropy(outputs, targets, label_smoothing=smoothing)

    def batch_sums(
        self, loss: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """``[loss sum, correct]`` of one batch.

        Args:
            loss: The batch's mean loss.
            outputs: Logits.
            targets: Indices or probabilities.
        """
        size = len(targets)
        correct = (outputs.detach().argmax(dim=1) == self.labels(targets)).sum()
        return torch.stack([loss.detach().double() * size, correct.double()])

    def metrics(self, sums: list[float], count: float) -> dict[str, float]:
        """``loss`` and ``acc``, the means over ``count`` samples.

        Args:
            sums: The epoch's sums, in ``sum_names`` order.
            count: Samples summed.
        """
        return {"loss": sums[0] / count, "acc": sums[1] / count}

    def test_outputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
        """Each sample's predicted class and label, for the confusion matrix.

        Args:
            outputs: Logits.
            targets: Indices or probabilities.
        """
        return {
            "prediction": outputs.argmax(dim=1).detach(),
            "target": self.labels(targets).detach(),
        }

    def predictions(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Class probabilities and the predicted class.

        Args:
            outputs: Logits.
        """
        probabilities = outputs.softmax(dim=1)
        return {"probabilities": probabilities, "prediction": probabilities.argmax(dim=1)}


class RegressionObjective:
    """Mean squared error or Huber loss on standardized values; MAE, RMSE and R².

    The loss is taken on the standardized scale (the model's ``TargetScale``), so a
    target measured in thousands trains as well as one in units; MAE and RMSE are in the
    data's own units, and R² is the mean over the values of each value's R².

    Args:
        num_outputs: Values per sample.
        loss: ``mse`` or ``huber``.
        huber_delta: Where the Huber loss turns from quadratic to linear, in standard
            deviations of the target.
    """

    task = REGRESSION
    progress: ClassVar[dict[str, tuple[str, ...]]] = {
        "train": ("loss",),
        "val": ("loss", "r2"),
        "test": ("r2",),
    }

    def __init__(self, num_outputs: int, loss: str = "mse", huber_delta: float = 1.0) -> None:
        if num_outputs < 1:
            raise ValueError(f"num_outputs must be at least 1, got {num_outputs}")
        if loss not in LOSSES[REGRESSION]:
            raise ValueError(f"loss={loss!r} is not a regression loss; valid: mse, huber")
        if not huber_delta > 0:
            raise ValueError(f"huber_delta must be positive, got {huber_delta}")
        self.outputs = num_outputs
        self.kind = loss
        self.huber_delta = huber_delta
        values = range(num_outputs)
        self.sum_names = (
            "loss_sum",
            "abs_error",
            "squared_error",
            *(f"squared_error_{v}" for v in values),
            *(f"target_{v}" for v in values),
            *(f"target_squared_{v}" for v in values),
        )

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, stage: str) -> torch.Tensor:
        """The loss of standardized outputs against standardized targets.

        Args:
            outputs: Standardized predictions ``(batch, num_outputs)``.
            targets: Standardized targets, the same shape.
            stage: ``train``, ``val`` or ``test``.
        """
        if self.kind == "huber":
            return F.huber_loss(outputs, targets, delta=self.huber_delta)
        return F.mse_loss(outputs, targets)

    def batch_sums(
        self, loss: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor
    ) -> torch.Tensor:
        """Loss, absolute and squared errors, and the target sums R² needs.

        Args:
            loss: The batch's mean loss.
            outputs: Predictions in the data's units ``(batch, num_outputs)``.
            targets: Targets in the data's units, the same shape.
        """
        predicted, true = outputs.detach().double(), targets.detach().double()
        error = predicted - true
        per_value = (error**2).sum(dim=0)
        return torch.cat(
            [
                torch.stack(
                    [loss.detach().double() * len(true), error.abs().sum(), per_value.sum()]
                ),
                per_value,
                true.sum(dim=0),
                (true**2).sum(dim=0),
            ]
        )

    def metrics(self, sums: list[float], count: float) -> dict[str, float]:
        """``loss``, ``mae``, ``rmse`` and ``r2`` over ``count`` samples.

        Args:
            sums: The epoch's sums, in ``sum_names`` order.
            count: Samples summed.
        """
        k = self.outputs
        loss, absolute, squared = sums[:3]
        errors, totals, squares = sums[3 : 3 + k], sums[3 + k : 3 + 2 * k], sums[3 + 2 * k :]
        scores = []
        for error, total, square in zip(errors, totals, squares, strict=True):
            spread = square - total * total / count
            # A constant target: R² is 1 for a perfect fit, else 0 (scikit-learn's rule).
            scores.append(1.0 - error / spread if spread > 1e-12 else float(error <= 1e-12))
        return {
            "loss": loss / count,
            "mae": absolute / (count * k),
            "rmse": math.sqrt(squared / (count * k)),
            "r2": sum(scores) / k,
        }

    def test_outputs(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, Any]:
        """Each sample's predicted and true values, for the scatter and residual plots.

        Args:
            outputs: Predictions in the data's units.
            targets: Targets in the data's units.
        """
        return {"values": outputs.detach(), "target_values": targets.detach()}

    def predictions(self, outputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """The predicted values, ``(batch, num_outputs)``.

        Args:
            outputs: Predictions in the data's units.
        """
        return {"values": outputs}


Objective = ClassificationObjective | RegressionObjective


__all__ = ["LOSSES", "ClassificationObjective", "Objective", "RegressionObjective"]
