"""A small, fast convolutional network: the default model, good from 8x8 to 64x64 inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from pegboard.tasks import ClassificationModel


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class CNN(ClassificationModel):
    """Stages of two 3x3 conv blocks, halving resolution between stages, then global pooling.

    Global average pooling makes the head independent of the image size, so one config
    serves every dataset; the number of stages should keep the last feature map >= 2 px.

    Args:
        input_shape: Shape of one image, ``[channels, height, width]``.
        num_classes: Number of classes.
        width: Channels of the first stage; each later stage doubles it.
        stages: Number of stages (resolution halves after each but the last).
        dropout: Dropout before the classifier.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        width: int = 32,
        stages: int = 2,
        dropout: float = 0.1,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        if len(input_shape) != 3:
            raise ValueError(
                f"CNN expects [channels, height, width] inputs, got {list(input_shape)}"
            )
        if stages < 1:
            raise ValueError(f"stages must be at least 1, got {stages}")
        layers: list[nn.Module] = []
        channels = input_shape[0]
        for stage in range(stages):
            out = width * 2**stage
            layers += _conv_block(channels, out) + _conv_block(out, out)
            if stage < stages - 1:
                layers.append(nn.MaxPool2d(2))
            channels = out
        layers += [
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(channels, num_classes),
        ]
        self.net = nn.Sequential(*layers)


__all__ = ["CNN"]
