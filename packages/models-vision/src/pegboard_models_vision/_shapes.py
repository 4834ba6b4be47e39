"""Shape checks and down-sampling plans that let one architecture serve 8 px to 224 px."""

from __future__ import annotations

from collections.abc import Sequence


def image_shape(input_shape: Sequence[int], model: str) -> tuple[int, int, int]:
    """Return ``(channels, height, width)``, or raise a ValueError that names the model.

    Args:
        input_shape: The data's ``input_shape``.
        model: The model's name, for the message.
    """
    if len(input_shape) != 3 or any(int(d) < 1 for d in input_shape):
        raise ValueError(
            f"{model} expects input_shape [channels, height, width], got {list(input_shape)}"
        )
    channels, height, width = (int(d) for d in input_shape)
    return channels, height, width


def plan_strides(size: int, strides: Sequence[int], min_size: int, ceil: bool = True) -> list[int]:
    """Turn the earliest stride-2 steps into stride 1 where the image is too small for all.

    An architecture designed for 224 px halves the resolution five times; on a 32 px
    image that leaves 1 px. Small-image variants of ResNet and MobileNet (the CIFAR
    ones) keep the late down-samplings and drop the early ones, so early layers see
    more pixels; this does the same for any input size, keeping as many halvings as
    leave the last feature map at least ``min_size`` pixels.

    Args:
        size: The smaller side of the input image.
        strides: Stride of each down-sampling point, in network order (1 or 2).
        min_size: Smallest side the last feature map may have.
        ceil: Whether a stride-2 layer rounds odd sizes up (padded 3x3 convolutions) or
            down (2x2 patchify convolutions, pooling without padding).

    Returns:
        The strides to use, same length as ``strides``.
    """
    wanted = sum(1 for s in strides if s == 2)
    allowed, current = 0, size
    while allowed < wanted:
        current = -(-current // 2) if ceil else current // 2
        if current < min_size:
            break
        allowed += 1
    to_drop = wanted - allowed
    planned = []
    for stride in strides:
        if stride == 2 and to_drop > 0:
            to_drop -= 1
            planned.append(1)
        else:
            planned.append(stride)
    return planned
