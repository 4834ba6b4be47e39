"""Building blocks shared by the pack's networks: one definition of each, reused."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    groups: int = 1,
    activation: type[nn.Module] | None = nn.ReLU,
) -> nn.Sequential:
    """Convolution (padded to keep the size at stride 1), BatchNorm, then an activation.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Square kernel size (odd).
        stride: Convolution stride.
        groups: Convolution groups (``in_channels`` for depthwise).
        activation: Activation class, or ``None`` for none.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            kernel_size // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
    ]
    if activation is not None:
        layers.append(
            activation(inplace=True) if activation in (nn.ReLU, nn.ReLU6) else activation()
        )
    return nn.Sequential(*layers)


def shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when shapes match, else a strided 1x1 projection with BatchNorm.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of the residual branch.
    """
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return conv_bn(in_channels, out_channels, 1, stride, activation=None)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34, CIFAR ResNet, WRN).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of the first convolution (2 halves the resolution).
        dropout: Dropout between the convolutions (Wide ResNet uses it).
        preact: Pre-activation order (BN-ReLU-conv, as in Wide ResNet) instead of the
            original conv-BN-ReLU.
    """

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        dropout: float = 0.0,
        preact: bool = False,
    ) -> None:
        super().__init__()
        self.preact = preact
        # Pre-activation blocks (He et al. 2016b) add the raw input on identity
        # shortcuts but project the normalised one when the shape changes.
        self.project_from_pre = preact and (stride != 1 or in_channels != out_channels)
        # Both orders run the same forward: pre -> branch + shortcut -> act, with the
        # unused end an Identity, so the block stays scriptable without branches.
        if preact:
            self.pre: nn.Module = nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True))
            self.act: nn.Module = nn.Identity()
            self.branch = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            )
            self.shortcut = (
                nn.Identity()
                if stride == 1 and in_channels == out_channels
                else nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
            )
        else:
            self.branch = nn.Sequential(
                conv_bn(in_channels, out_channels, 3, stride),
                nn.Dropout(dropout),
                conv_bn(out_channels, out_channels, 3, activation=None),
            )
            self.shortcut = shortcut(in_channels, out_channels, stride)
            self.pre = nn.Identity()
            self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual branch plus shortcut.

        Args:
            x: Feature map ``(batch, in_channels, height, width)``.
        """
        out = self.pre(x)
        residual = self.shortcut(out if self.project_from_pre else x)
        return self.act(self.branch(out) + residual)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by ``expansion``, plus the shortcut (ResNet-50+).

    Args:
        in_channels: Input channels.
        width: Channels of the 3x3 convolution; the block outputs ``4 * width``.
        stride: Stride of the 3x3 convolution.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.branch = nn.Sequential(
            conv_bn(in_channels, width, 1),
            conv_bn(width, width, 3, stride),
            conv_bn(width, out_channels, 1, activation=None),
        )
        self.shortcut = shortcut(in_channels, out_channels, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual branch plus shortcut.

        Args:
            x: Feature map.
        """
        return self.act(self.branch(x) + self.shortcut(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, linear 1x1 project, residual if it fits.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of the depthwise convolution.
        expand_ratio: Expansion of the hidden channels.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn(in_channels, hidden, 1, activation=nn.ReLU6))
        layers += [
            conv_bn(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6),
            conv_bn(hidden, out_channels, 1, activation=None),
        ]
        self.branch = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block, with the identity added when shapes allow.

        Args:
            x: Feature map.
        """
        out = self.branch(x)
        return x + out if self.residual else out


class DropPath(nn.Module):
    """Stochastic depth: drop a residual branch for a random subset of samples in training.

    Args:
        rate: Probability of dropping the branch for a sample.
    """

    def __init__(self, rate: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"drop_path must be in [0, 1), got {rate}")
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale kept samples by ``1 / (1 - rate)``; identity in eval mode.

        Args:
            x: The branch output.
        """
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


def drop_path_rates(rate: float, depth: int) -> list[float]:
    """Stochastic-depth rates rising linearly from 0 to ``rate`` over ``depth`` blocks.

    Args:
        rate: Rate of the last block.
        depth: Number of blocks.
    """
    return [rate * i / max(depth - 1, 1) for i in range(depth)]


def classifier_head(channels: int, num_classes: int, dropout: float = 0.0) -> nn.Sequential:
    """Global average pooling, flatten, dropout, linear: works for any feature-map size.

    Args:
        channels: Channels of the last feature map.
        num_classes: Number of classes.
        dropout: Dropout before the linear layer.
    """
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels, num_classes)
    )


__all__ = [
    "BasicBlock",
    "Bottleneck",
    "DropPath",
    "InvertedResidual",
    "classifier_head",
    "conv_bn",
    "drop_path_rates",
]
