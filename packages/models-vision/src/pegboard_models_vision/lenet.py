"""LeNet-5 (LeCun et al. 1998), with ReLU and max-pooling, sized to any small image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape


def _padding_for(side: int) -> tuple[int, int]:
    # The paper's 5x5 convolutions are unpadded on 32 px images. Smaller images get
    # 2 px of padding (as the usual MNIST 28 px variant does on the first layer), and
    # the second layer is padded too when an unpadded one would leave nothing to pool.
    first = 0 if side >= 32 else 2
    after_first = (side + 2 * first - 4) // 2
    second = 0 if after_first >= 6 else 2
    return first, second


class LeNet5(ClassificationModel):
    """C1 6@5x5, pool, C3 16@5x5, pool, then fully connected 120, 84 and the classes.

    Args:
        input_shape: ``[channels, height, width]`` of one image (8 px and more).
        num_classes: Number of classes.
        dropout: Dropout before each hidden fully connected layer (0 in the paper).
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        dropout: float = 0.0,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width = image_shape(input_shape, "LeNet5")
        if min(height, width) < 4:
            raise ValueError(f"LeNet5 needs images of at least 4x4, got {height}x{width}")
        first, second = _padding_for(min(height, width))
        # Side of the last feature map along each axis: conv 5x5 then pool 2, twice.
        sizes = [((side + 2 * first - 4) // 2 + 2 * second - 4) // 2 for side in (height, width)]
        self.net = nn.Sequential(
            nn.Conv2d(channels, 6, 5, padding=first),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=second),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(16 * sizes[0] * sizes[1], 120),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )


__all__ = ["LeNet5"]
