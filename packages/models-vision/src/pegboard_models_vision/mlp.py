"""A multilayer perceptron over flattened images: the simplest baseline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import nn

from pegboard.tasks import ClassificationModel


class MLP(ClassificationModel):
    """Flatten, then ``Linear -> BatchNorm -> ReLU -> Dropout`` per hidden layer.

    Args:
        input_shape: Shape of one input, such as ``[1, 8, 8]``.
        num_classes: Number of classes.
        hidden_sizes: Width of each hidden layer.
        dropout: Dropout probability after each hidden layer.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        hidden_sizes: Sequence[int] = (256, 128),
        dropout: float = 0.1,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)


__all__ = ["MLP"]
