"""FT-Transformer (Gorishniy et al. 2021): a transformer over one token per feature."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pegboard.tasks import SupervisedModel
from pegboard_tabular._blocks import check_dropout, num_features


def _uniform_(tensor: torch.Tensor, d_token: int) -> None:
    # The paper's initialization of token weights and biases: U(-1/sqrt(d), 1/sqrt(d)),
    # the same scale a Linear(d, ...) layer starts its weights with.
    bound = 1.0 / math.sqrt(d_token)
    nn.init.uniform_(tensor, -bound, bound)


class FeatureTokenizer(nn.Module):
    """One token per numeric feature, ``x_j * W_j + b_j``, with a learned [CLS] token last.

    Args:
        features: Number of features.
        d_token: Token width.
    """

    def __init__(self, features: int, d_token: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(features, d_token))
        self.bias = nn.Parameter(torch.empty(features, d_token))
        self.cls = nn.Parameter(torch.empty(1, 1, d_token))
        for tensor in (self.weight, self.bias, self.cls):
            _uniform_(tensor, d_token)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens ``(batch, features + 1, d_token)``, the [CLS] token last.

        Args:
            x: Features ``(batch, features)``.
        """
        tokens = x.unsqueeze(-1) * self.weight + self.bias
        return torch.cat([tokens, self.cls.expand(x.shape[0], -1, -1)], dim=1)


class SelfAttention(nn.Module):
    """Multi-head self-attention through ``scaled_dot_product_attention``.

    Args:
        d_token: Token width.
        heads: Number of heads; must divide ``d_token``.
        dropout: Dropout on the attention probabilities.
    """

    def __init__(self, d_token: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_token, 3 * d_token)
        self.out = nn.Linear(d_token, d_token)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend over the tokens.

        Args:
            x: Tokens ``(batch, tokens, d_token)``.
        """
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, dim // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attended = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(attended.transpose(1, 2).reshape(batch, tokens, dim))


class ReGLU(nn.Module):
    """``a * relu(b)`` of the two halves of the last dimension: the paper's FFN gate."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate one half by the other.

        Args:
            x: ``(..., 2 * hidden)``.
        """
        a, b = x.chunk(2, dim=-1)
        return a * F.relu(b)


class FTBlock(nn.Module):
    """Pre-norm transformer block: attention, then a ReGLU feed-forward, each residual.

    Args:
        d_token: Token width.
        heads: Attention heads.
        ffn_hidden: Inner width of the feed-forward network.
        attention_dropout: Dropout on the attention probabilities.
        ffn_dropout: Dropout inside the feed-forward network.
        residual_dropout: Dropout on each branch before it joins the skip path.
        first: The first block: its input, fresh from the tokenizer, is not normalized
            before attention (as in the paper, where that norm only hurt).
    """

    def __init__(
        self,
        d_token: int,
        heads: int,
        ffn_hidden: int,
        attention_dropout: float,
        ffn_dropout: float,
        residual_dropout: float,
        first: bool = False,
    ) -> None:
        super().__init__()
        self.attention_norm = nn.Identity() if first else nn.LayerNorm(d_token)
        self.attention = SelfAttention(d_token, heads, attention_dropout)
        self.ffn_norm = nn.LayerNorm(d_token)
        self.ffn = nn.Sequential(
            nn.Linear(d_token, 2 * ffn_hidden),
            ReGLU(),
            nn.Dropout(ffn_dropout),
            nn.Linear(ffn_hidden, d_token),
        )
        self.residual_dropout = nn.Dropout(residual_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Args:
            x: Tokens ``(batch, tokens, d_token)``.
        """
        x = x + self.residual_dropout(self.attention(self.attention_norm(x)))
        return x + self.residual_dropout(self.ffn(self.ffn_norm(x)))


class FTTransformerNet(nn.Module):
    """Tokenizer, blocks, and a ``LayerNorm -> ReLU -> Linear`` head on the [CLS] token.

    Args:
        features: Number of input features.
        outputs: Outputs per sample.
        d_token: Token width.
        n_blocks: Number of transformer blocks.
        n_heads: Attention heads.
        ffn_factor: Feed-forward inner width over ``d_token``.
        attention_dropout: Dropout on the attention probabilities.
        ffn_dropout: Dropout inside the feed-forward networks.
        residual_dropout: Dropout on each branch before its skip.
    """

    def __init__(
        self,
        features: int,
        outputs: int,
        d_token: int,
        n_blocks: int,
        n_heads: int,
        ffn_factor: float,
        attention_dropout: float,
        ffn_dropout: float,
        residual_dropout: float,
    ) -> None:
        super().__init__()
        ffn_hidden = max(1, round(d_token * ffn_factor))
        self.tokenizer = FeatureTokenizer(features, d_token)
        self.blocks = nn.Sequential(
            *(
                FTBlock(
                    d_token,
                    n_heads,
                    ffn_hidden,
                    attention_dropout,
                    ffn_dropout,
                    residual_dropout,
                    first=index == 0,
                )
                for index in range(n_blocks)
            )
        )
        self.head = nn.Sequential(nn.LayerNorm(d_token), nn.ReLU(), nn.Linear(d_token, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs ``(batch, outputs)`` of a batch of inputs, flattened to features.

        Args:
            x: Inputs ``(batch, *input_shape)``.
        """
        tokens = self.blocks(self.tokenizer(x.flatten(1)))
        return self.head(tokens[:, -1])


class FTTransformer(SupervisedModel):
    """FT-Transformer: every feature becomes a token; a transformer reads them all.

    Each numeric feature ``x_j`` becomes the token ``x_j * W_j + b_j`` (a weight and a bias
    vector per feature), a learned [CLS] token joins them, ``n_blocks`` pre-norm
    transformer blocks (multi-head attention, ReGLU feed-forward) mix them, and a head
    reads the [CLS] token (Gorishniy et al., "Revisiting Deep Learning Models for Tabular
    Data", 2021). The defaults are the paper's (dropouts, 4/3 ReGLU feed-forward, no norm
    before the first attention), narrower and shallower (64-wide tokens and 2 blocks,
    not 192 and 3) with a higher learning rate, so that small tables train in 30 epochs on
    a CPU in seconds. Classifies or regresses like ``pegboard_tabular.TabularMLP``.

    Every column is a numeric token: the pack's datamodules one-hot encode categories,
    so a category's columns become tokens of their own (the paper embeds each
    categorical feature as one token instead). Inputs with more than one dimension are
    flattened, one token per value.

    Args:
        input_shape: Shape of one input, ``[features]``.
        task: ``classification`` or ``regression``.
        num_classes: Number of classes (classification).
        num_outputs: Values per sample (regression; ``None`` means 1).
        d_token: Token width; a multiple of ``n_heads``.
        n_blocks: Number of transformer blocks.
        n_heads: Attention heads.
        ffn_factor: Feed-forward inner width over ``d_token`` (the paper's 4/3).
        attention_dropout: Dropout on the attention probabilities.
        ffn_dropout: Dropout inside the feed-forward networks.
        dropout: Residual dropout: on each attention and feed-forward branch before its
            skip.
        **task_options: ``SupervisedModel``'s options: ``loss``, ``label_smoothing``,
            ``huber_delta``, ``ema_decay``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        task: str = "classification",
        num_classes: int | None = None,
        num_outputs: int | None = None,
        d_token: int = 64,
        n_blocks: int = 2,
        n_heads: int = 8,
        ffn_factor: float = 4 / 3,
        attention_dropout: float = 0.2,
        ffn_dropout: float = 0.1,
        dropout: float = 0.0,
        **task_options: Any,
    ) -> None:
        super().__init__(task, num_classes, num_outputs, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        for name, rate in (
            ("attention_dropout", attention_dropout),
            ("ffn_dropout", ffn_dropout),
            ("dropout", dropout),
        ):
            check_dropout(name, rate)
        if n_blocks < 1 or n_heads < 1 or d_token < 1 or ffn_factor <= 0:
            raise ValueError(
                f"need d_token, n_blocks and n_heads >= 1 and ffn_factor > 0; got "
                f"d_token={d_token}, n_blocks={n_blocks}, n_heads={n_heads}, "
                f"ffn_factor={ffn_factor}"
            )
        if d_token % n_heads:
            raise ValueError(f"d_token={d_token} is not a multiple of n_heads={n_heads}")
        self.net = FTTransformerNet(
            num_features(input_shape),
            self.output_size,
            d_token,
            n_blocks,
            n_heads,
            ffn_factor,
            attention_dropout,
            ffn_dropout,
            dropout,
        )


__all__ = [
    "FTBlock",
    "FTTransformer",
    "FTTransformerNet",
    "FeatureTokenizer",
    "ReGLU",
    "SelfAttention",
]
