"""A residual MLP over feature vectors: the ResNet baseline of Gorishniy et al. (2021)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from pegboard.tasks import SupervisedModel
from pegboard_tabular._blocks import check_dropout, make_activation, make_norm, num_features


class ResidualBlock(nn.Module):
    """``x + dropout(linear(dropout(act(linear(norm(x))))))``: a pre-norm residual MLP block.

    The block of the ResNet baseline of Gorishniy et al. (2021): with the norm first, the
    skip path stays an identity, so depth does not change the scale of the signal.

    Args:
        width: Features in and out.
        hidden: Features of the inner layer.
        norm: ``batchnorm``, ``layernorm`` or ``none``.
        activation: ``relu``, ``gelu`` or ``silu``.
        dropout: Dropout after the activation.
        residual_dropout: Dropout on the branch before it joins the skip path.
    """

    def __init__(
        self,
        width: int,
        hidden: int,
        norm: str = "batchnorm",
        activation: str = "relu",
        dropout: float = 0.0,
        residual_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.branch = nn.Sequential(
            make_norm(norm, width),
            nn.Linear(width, hidden),
            make_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(hidden, width),
            nn.Dropout(residual_dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Args:
            x: Features ``(batch, width)``.
        """
        return x + self.branch(x)


class TabularResMLP(SupervisedModel):
    """A linear stem to ``width`` features, ``depth`` residual blocks, then a norm-act-linear head.

    Each block is ``x + dropout(linear(dropout(act(linear(norm(x))))))`` with an inner
    width of ``width * hidden_factor``. On tables the residual MLP is a strong baseline
    that trains as reliably as the plain MLP at any depth (Gorishniy et al., "Revisiting
    Deep Learning Models for Tabular Data", 2021). Classifies or regresses like
    ``pegboard_tabular.TabularMLP``; inputs with more than one dimension are flattened.

    Args:
        input_shape: Shape of one input, ``[features]``.
        task: ``classification`` or ``regression``.
        num_classes: Number of classes (classification).
        num_outputs: Values per sample (regression; ``None`` means 1).
        width: Features carried along the residual path.
        depth: Number of residual blocks.
        hidden_factor: Inner width of a block over ``width``.
        norm: ``batchnorm``, ``layernorm`` or ``none``, first in each block and in the head.
        activation: ``relu``, ``gelu`` or ``silu``.
        dropout: Dropout after each block's activation.
        residual_dropout: Dropout on each block's branch before the skip is added.
        **task_options: ``SupervisedModel``'s options: ``loss``, ``label_smoothing``,
            ``huber_delta``, ``ema_decay``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        task: str = "classification",
        num_classes: int | None = None,
        num_outputs: int | None = None,
        width: int = 64,
        depth: int = 2,
        hidden_factor: float = 2.0,
        norm: str = "batchnorm",
        activation: str = "relu",
        dropout: float = 0.1,
        residual_dropout: float = 0.0,
        **task_options: Any,
    ) -> None:
        super().__init__(task, num_classes, num_outputs, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        check_dropout("dropout", dropout)
        check_dropout("residual_dropout", residual_dropout)
        if width < 1 or depth < 0 or hidden_factor <= 0:
            raise ValueError(
                f"need width >= 1, depth >= 0 and hidden_factor > 0; got width={width}, "
                f"depth={depth}, hidden_factor={hidden_factor}"
            )
        hidden = max(1, round(width * hidden_factor))
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(num_features(input_shape), width),
            *(
                ResidualBlock(width, hidden, norm, activation, dropout, residual_dropout)
                for _ in range(depth)
            ),
            # The residual path is never normalized inside the blocks: the head does it.
            make_norm(norm, width),
            make_activation(activation),
            nn.Linear(width, self.output_size),
        )


__all__ = ["ResidualBlock", "TabularResMLP"]
