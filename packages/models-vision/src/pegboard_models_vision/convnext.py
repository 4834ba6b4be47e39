"""ConvNeXt (Liu et al. 2022): a modernised ResNet, here sized for small images."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape, plan_strides
from pegboard_models_vision.blocks import DropPath, drop_path_rates


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a ``(batch, channels, height, width)`` map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each pixel's channel vector.

        Args:
            x: Feature map.
        """
        x = F.layer_norm(
            x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps
        )
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """7x7 depthwise conv, LayerNorm, 4x MLP with GELU, layer scale, residual.

    Args:
        dim: Channels.
        drop_path: Stochastic-depth rate.
        layer_scale: Initial value of the per-channel residual scale.
    """

    def __init__(self, dim: int, drop_path: float, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Args:
            x: Feature map ``(batch, dim, height, width)``.
        """
        out = self.dwconv(x).permute(0, 2, 3, 1)  # the MLP runs channels-last
        out = (self.mlp(self.norm(out)) * self.gamma).permute(0, 3, 1, 2)
        return x + self.drop_path(out)


class ConvNeXt(ClassificationModel):
    """ConvNeXt with stage depths and widths as parameters.

    The shipped ``convnext`` config is a tiny variant for small images (depths
    ``[2, 2, 6, 2]``, widths ``[40, 80, 160, 320]``, a stride-2 stem: 3.4M
    parameters); ConvNeXt-T is ``[3, 3, 9, 3]``, ``[96, 192, 384, 768]`` with
    ``stem_stride=4``. Down-sampling steps that would shrink the map below 2 px become
    stride 1.

    Args:
        input_shape: ``[channels, height, width]`` of one image.
        num_classes: Number of classes.
        depths: Blocks per stage.
        dims: Channels per stage (same length as ``depths``).
        stem_stride: Patchify stride of the stem: 1, 2 or 4.
        drop_path: Stochastic depth rate of the last block.
        layer_scale: Initial residual scale.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        depths: Sequence[int] = (2, 2, 6, 2),
        dims: Sequence[int] = (40, 80, 160, 320),
        stem_stride: int = 2,
        drop_path: float = 0.1,
        layer_scale: float = 1e-6,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width = image_shape(input_shape, "ConvNeXt")
        if len(depths) != len(dims) or not depths:
            raise ValueError(
                f"ConvNeXt depths {list(depths)} and dims {list(dims)} must have "
                "the same, non-zero length"
            )
        if stem_stride not in (1, 2, 4):
            raise ValueError(f"ConvNeXt stem_stride must be 1, 2 or 4, got {stem_stride}")
        stem_halvings = int(math.log2(stem_stride))
        strides = plan_strides(
            min(height, width), [2] * (stem_halvings + len(dims) - 1), min_size=2, ceil=False
        )
        stem = math.prod(strides[:stem_halvings])
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(channels, dims[0], stem, stem)
                if stem > 1
                else nn.Conv2d(channels, dims[0], 3, padding=1),
                LayerNorm2d(dims[0]),
            )
        ]
        rates = iter(drop_path_rates(drop_path, sum(depths)))
        for index, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
            if index > 0:
                stride = strides[stem_halvings + index - 1]
                layers.append(
                    nn.Sequential(
                        LayerNorm2d(dims[index - 1]),
                        nn.Conv2d(dims[index - 1], dim, stride, stride),
                    )
                )
            layers.append(
                nn.Sequential(*(ConvNeXtBlock(dim, next(rates), layer_scale) for _ in range(depth)))
            )
        layers += [
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.LayerNorm(dims[-1]),
            nn.Linear(dims[-1], num_classes),
        ]
        self.net = nn.Sequential(*layers)
        for module in self.net.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)


__all__ = ["ConvNeXt"]
