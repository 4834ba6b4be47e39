"""ResNets: the ImageNet family (18 to 152) with a small-image stem, and the CIFAR family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape, plan_strides
from pegboard_models_vision.blocks import BasicBlock, Bottleneck, classifier_head, conv_bn

#: Blocks per stage and block type of the ImageNet ResNets, by depth.
IMAGENET_DEPTHS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
STEMS = ("auto", "imagenet", "small")
#: Below this side, "auto" picks the small stem (3x3, stride 1, no max-pool).
SMALL_STEM_BELOW = 96


def make_stage(
    kind: str, in_channels: int, width: int, blocks: int, stride: int, **block_args: float | bool
) -> tuple[nn.Sequential, int]:
    """A stage of residual blocks; the first one carries the stride.

    Args:
        kind: ``"basic"`` or ``"bottleneck"``.
        in_channels: Channels entering the stage.
        width: Block width (output channels of a basic block).
        blocks: Number of blocks.
        stride: Stride of the first block.
        block_args: Extra arguments of ``BasicBlock`` (``dropout``, ``preact``).

    Returns:
        The stage and its output channels.
    """
    layers: list[nn.Module] = []
    for index in range(blocks):
        step = stride if index == 0 else 1
        if kind == "bottleneck":
            layers.append(Bottleneck(in_channels, width, step))
            in_channels = width * Bottleneck.expansion
        else:
            layers.append(BasicBlock(in_channels, width, step, **block_args))  # type: ignore[arg-type]
            in_channels = width
    return nn.Sequential(*layers), in_channels


def _zero_init_last_bn(net: nn.Module) -> None:
    # Each residual block starts as the identity: trains faster and more stably
    # (Goyal et al., "Accurate, Large Minibatch SGD").
    for module in net.modules():
        if isinstance(module, BasicBlock | Bottleneck) and not getattr(module, "preact", False):
            last = module.branch[-1]
            norm = last[1] if isinstance(last, nn.Sequential) else None
            if isinstance(norm, nn.BatchNorm2d):
                nn.init.zeros_(norm.weight)


class ResNet(ClassificationModel):
    """ResNet-18/34/50/101/152 (He et al. 2016) for any image size.

    The ``"imagenet"`` stem (7x7 stride-2 convolution and max-pool) suits images of
    96 px and more; the ``"small"`` stem (one 3x3 stride-1 convolution, no pool) suits
    28-64 px images, as used for CIFAR and Tiny ImageNet; ``"auto"`` picks by size.
    On very small inputs the earliest stride-2 steps become stride 1 so that the last
    feature map keeps at least 2 px.

    Args:
        input_shape: ``[channels, height, width]`` of one image.
        num_classes: Number of classes.
        depth: 18, 34, 50, 101 or 152.
        width: Channels of the first stage (64 in the paper); later stages double it.
        stem: ``"auto"``, ``"imagenet"`` or ``"small"``.
        zero_init_residual: Start each block's last BatchNorm at zero.
        dropout: Dropout before the classifier.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        depth: int = 18,
        width: int = 64,
        stem: str = "auto",
        zero_init_residual: bool = True,
        dropout: float = 0.0,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width_px = image_shape(input_shape, "ResNet")
        if depth not in IMAGENET_DEPTHS:
            raise ValueError(f"ResNet depth must be one of {sorted(IMAGENET_DEPTHS)}, got {depth}")
        if stem not in STEMS:
            raise ValueError(f"ResNet stem must be one of {STEMS}, got {stem!r}")
        side = min(height, width_px)
        if stem == "auto":
            stem = "small" if side < SMALL_STEM_BELOW else "imagenet"
        kind, blocks = IMAGENET_DEPTHS[depth]
        stem_strides = [2, 2] if stem == "imagenet" else []
        strides = plan_strides(side, [*stem_strides, 1, 2, 2, 2], min_size=2)
        layers: list[nn.Module] = []
        if stem == "imagenet":
            layers.append(
                nn.Sequential(
                    nn.Conv2d(channels, width, 7, strides[0], 3, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(3, strides[1], 1),
                )
            )
        else:
            layers.append(conv_bn(channels, width, 3, 1))
        in_channels = width
        for index, (count, stride) in enumerate(
            zip(blocks, strides[len(stem_strides) :], strict=True)
        ):
            stage, in_channels = make_stage(kind, in_channels, width * 2**index, count, stride)
            layers.append(stage)
        layers.append(classifier_head(in_channels, num_classes, dropout))
        self.net = nn.Sequential(*layers)
        if zero_init_residual:
            _zero_init_last_bn(self.net)


class CifarResNet(ClassificationModel):
    """The CIFAR ResNets of He et al. 2016 (ResNet-20/32/44/56/110): depth ``6n + 2``.

    Three stages of ``n`` basic blocks at widths ``w, 2w, 4w`` (16, 32, 64 in the
    paper) on a 3x3 stem; 1x1 projection shortcuts where shapes change (option B).

    Args:
        input_shape: ``[channels, height, width]`` of one image.
        num_classes: Number of classes.
        depth: ``6n + 2``: 20, 32, 44, 56, 110...
        width: Channels of the first stage.
        zero_init_residual: Start each block's last BatchNorm at zero.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        depth: int = 20,
        width: int = 16,
        zero_init_residual: bool = False,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width_px = image_shape(input_shape, "CifarResNet")
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}")
        per_stage = (depth - 2) // 6
        strides = plan_strides(min(height, width_px), [1, 2, 2], min_size=2)
        layers: list[nn.Module] = [conv_bn(channels, width, 3)]
        in_channels = width
        for index, stride in enumerate(strides):
            stage, in_channels = make_stage(
                "basic", in_channels, width * 2**index, per_stage, stride
            )
            layers.append(stage)
        layers.append(classifier_head(in_channels, num_classes))
        self.net = nn.Sequential(*layers)
        if zero_init_residual:
            _zero_init_last_bn(self.net)


__all__ = ["CifarResNet", "ResNet", "make_stage"]
