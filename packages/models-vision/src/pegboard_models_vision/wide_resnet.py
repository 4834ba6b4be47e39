"""Wide ResNet (Zagoruyko and Komodakis 2016): shallow, wide, pre-activation blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape, plan_strides
from pegboard_models_vision.resnet import make_stage


class WideResNet(ClassificationModel):
    """WRN-``depth``-``widen_factor``: three stages of ``(depth - 4) / 6`` wide blocks.

    Stage widths are ``16k, 32k, 64k`` for ``k = widen_factor``; WRN-16-4 (2.7M
    parameters) and WRN-28-10 (36M) are the usual CIFAR choices.

    Args:
        input_shape: ``[channels, height, width]`` of one image.
        num_classes: Number of classes.
        depth: ``6n + 4``: 16, 22, 28, 40...
        widen_factor: Width multiplier ``k``.
        dropout: Dropout between the two convolutions of each block.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        depth: int = 16,
        widen_factor: int = 4,
        dropout: float = 0.0,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width_px = image_shape(input_shape, "WideResNet")
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n+4 (16, 22, 28, 40), got {depth}")
        if widen_factor < 1:
            raise ValueError(f"WideResNet widen_factor must be at least 1, got {widen_factor}")
        per_stage = (depth - 4) // 6
        strides = plan_strides(min(height, width_px), [1, 2, 2], min_size=2)
        layers: list[nn.Module] = [nn.Conv2d(channels, 16, 3, 1, 1, bias=False)]
        in_channels = 16
        for index, stride in enumerate(strides):
            stage, in_channels = make_stage(
                "basic",
                in_channels,
                16 * widen_factor * 2**index,
                per_stage,
                stride,
                dropout=dropout,
                preact=True,
            )
            layers.append(stage)
        # Pre-activation blocks leave the last output un-normalised: BN-ReLU before pooling.
        layers += [
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(in_channels, num_classes),
        ]
        self.net = nn.Sequential(*layers)


__all__ = ["WideResNet"]
