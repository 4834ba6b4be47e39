"""Vision Transformer (Dosovitskiy et al. 2021) for small and large images."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape
from pegboard_models_vision.blocks import DropPath, drop_path_rates

#: The automatic patch size aims at a grid of this many patches per side.
AUTO_GRID = 8


class Attention(nn.Module):
    """Multi-head self-attention through ``scaled_dot_product_attention`` (fused kernels).

    Args:
        dim: Token width.
        heads: Number of heads; must divide ``dim``.
        dropout: Attention and projection dropout.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend over the tokens.

        Args:
            x: Tokens ``(batch, tokens, dim)``.
        """
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(batch, tokens, dim)))


class TransformerBlock(nn.Module):
    """Pre-norm transformer encoder block: attention and MLP, each residual.

    Args:
        dim: Token width.
        heads: Attention heads.
        mlp_ratio: Hidden width of the MLP over ``dim``.
        dropout: Dropout in attention and MLP.
        drop_path: Stochastic-depth rate of this block.
    """

    def __init__(
        self, dim: int, heads: int, mlp_ratio: float, dropout: float, drop_path: float
    ) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, dim),
            nn.Dropout(dropout),
        )
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Args:
            x: Tokens ``(batch, tokens, dim)``.
        """
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViTNet(nn.Module):
    """Patch embedding, class token, learned positions, encoder blocks, linear head.

    Args:
        channels: Image channels.
        grid: Patches per side ``(rows, columns)``.
        patch_size: Side of a square patch.
        num_classes: Number of classes.
        dim: Token width.
        depth: Number of blocks.
        heads: Attention heads.
        mlp_ratio: MLP hidden width over ``dim``.
        dropout: Dropout.
        drop_path: Stochastic depth of the last block (rising linearly from 0).
    """

    def __init__(
        self,
        channels: int,
        grid: tuple[int, int],
        patch_size: int,
        num_classes: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float,
        dropout: float,
        drop_path: float,
    ) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(channels, dim, patch_size, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid[0] * grid[1] + 1, dim))
        self.pos_drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(
            *(
                TransformerBlock(dim, heads, mlp_ratio, dropout, rate)
                for rate in drop_path_rates(drop_path, depth)
            )
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of images.

        Args:
            x: Images ``(batch, channels, height, width)``.
        """
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        tokens = self.pos_drop(torch.cat([cls, tokens], dim=1) + self.pos_embed)
        return self.head(self.norm(self.blocks(tokens))[:, 0])


def auto_patch_size(height: int, width: int) -> int:
    """The divisor of both sides that gives a grid closest to 8x8 patches.

    Args:
        height: Image height.
        width: Image width.
    """
    common = math.gcd(height, width)
    target = min(height, width) / AUTO_GRID
    divisors = [d for d in range(1, common + 1) if common % d == 0]
    return min(divisors, key=lambda d: (abs(d - target), d))


class VisionTransformer(ClassificationModel):
    """ViT with the patch size, depth, width and heads as parameters.

    ViT-Tiny is ``dim=192, depth=12, heads=3``, ViT-Small ``384, 12, 6``. On 32 px
    images a patch of 4 (an 8x8 grid) is the usual choice; ``patch_size=null`` picks
    the divisor of the image sides closest to an 8x8 grid.

    Args:
        input_shape: ``[channels, height, width]`` of one image.
        num_classes: Number of classes.
        patch_size: Side of the square patches; must divide height and width.
            ``None`` chooses one.
        dim: Token width; a multiple of ``heads``.
        depth: Number of encoder blocks.
        heads: Attention heads.
        mlp_ratio: MLP hidden width over ``dim``.
        dropout: Dropout in attention, MLP and after the position embedding.
        drop_path: Stochastic depth rate of the last block.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        patch_size: int | None = None,
        dim: int = 192,
        depth: int = 6,
        heads: int = 3,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        drop_path: float = 0.1,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        channels, height, width = image_shape(input_shape, "VisionTransformer")
        patch = auto_patch_size(height, width) if patch_size is None else patch_size
        if patch < 1 or height % patch or width % patch:
            divisors = [
                d
                for d in range(1, math.gcd(height, width) + 1)
                if height % d == 0 and width % d == 0
            ]
            raise ValueError(
                f"VisionTransformer patch_size={patch_size} does not divide the image size "
                f"{height}x{width}; choose one of {divisors} (or null to pick one)"
            )
        if dim % heads:
            raise ValueError(f"VisionTransformer dim={dim} is not a multiple of heads={heads}")
        self.net = ViTNet(
            channels,
            (height // patch, width // patch),
            patch,
            num_classes,
            dim,
            depth,
            heads,
            mlp_ratio,
            dropout,
            drop_path,
        )


__all__ = ["VisionTransformer", "auto_patch_size"]
