"""MobileNetV2 (Sandler et al. 2018): inverted residuals with linear bottlenecks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape, plan_strides
from pegboard_models_vision.blocks import InvertedResidual, classifier_head, conv_bn

#: (expansion t, channels c, blocks n, stride s) of each stage, from the paper.
STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of ``divisor``, never below 90% of ``value``.

    Args:
        value: The scaled channel count.
        divisor: The multiple (8 suits vector units and tensor cores).
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class MobileNetV2(ClassificationModel):
    """MobileNetV2 with a width multiplier, for 8 px to 224 px images.

    On images smaller than 128 px the earliest stride-2 steps (the stem's first) become
    stride 1, as in the CIFAR adaptations, so the last feature map keeps at least 4 px.

    Args:
        input_shape: ``[channels, height, width]`` of one image.
        num_classes: Number of classes.
        width_mult: Multiplies every layer's channels (0.35 to 1.4 in the paper).
        last_channels: Channels of the last 1x1 convolution (scaled up when
            ``width_mult > 1``).
        dropout: Dropout before the classifier.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        width_mult: float = 1.0,
        last_channels: int = 1280,
        dropout: float = 0.2,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width = image_shape(input_shape, "MobileNetV2")
        if width_mult <= 0:
            raise ValueError(f"MobileNetV2 width_mult must be positive, got {width_mult}")
        strides = plan_strides(min(height, width), [2] + [s for *_, s in STAGES], min_size=4)
        stem = make_divisible(32 * width_mult)
        layers: list[nn.Module] = [conv_bn(channels, stem, 3, strides[0], activation=nn.ReLU6)]
        in_channels = stem
        for (expand, out, count, _), stride in zip(STAGES, strides[1:], strict=True):
            out = make_divisible(out * width_mult)
            for index in range(count):
                layers.append(
                    InvertedResidual(in_channels, out, stride if index == 0 else 1, expand)
                )
                in_channels = out
        last = make_divisible(last_channels * max(1.0, width_mult))
        layers.append(conv_bn(in_channels, last, 1, activation=nn.ReLU6))
        layers.append(classifier_head(last, num_classes, dropout))
        self.net = nn.Sequential(*layers)


__all__ = ["MobileNetV2"]
