"""Tiny models the kit uses to train any data pack's datamodules: classes and values."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from pegboard.model import OptimizerFactory, SchedulerFactory
from pegboard.tasks import ClassificationModel, RegressionModel


class LinearClassifier(ClassificationModel):
    """Flatten, then one linear layer: trains in milliseconds on any input shape.

    Args:
        input_shape: Shape of one input.
        num_classes: Number of classes.
        optimizer: See ``pegboard.Model``.
        scheduler: See ``pegboard.Model``.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
    ) -> None:
        super().__init__(num_classes, optimizer=optimizer, scheduler=scheduler)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))


class LinearRegressor(RegressionModel):
    """Flatten, then one linear layer to ``num_outputs`` values.

    Args:
        input_shape: Shape of one input.
        num_outputs: Values per sample.
        optimizer: See ``pegboard.Model``.
        scheduler: See ``pegboard.Model``.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int = 1,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
    ) -> None:
        super().__init__(num_outputs, optimizer=optimizer, scheduler=scheduler)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_outputs))


__all__ = ["LinearClassifier", "LinearRegressor"]
