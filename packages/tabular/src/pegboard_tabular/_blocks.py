"""Pieces the tabular models share: feature counting, norms and activations."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

#: Normalization layers a model config may name.
NORMS = ("batchnorm", "layernorm", "none")
#: Activations a model config may name.
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}


def num_features(input_shape: Sequence[int]) -> int:
    """How many features one input holds once flattened.

    Tabular data is ``[features]``; anything with more dimensions (the kit's 1x8x8
    images) is flattened, so the same configs run on it.

    Args:
        input_shape: Shape of one input.
    """
    shape = [int(d) for d in input_shape]
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"input_shape must be non-empty with positive sizes, got {shape}")
    return math.prod(shape)


def check_dropout(name: str, value: float) -> None:
    """Refuse a dropout probability outside ``[0, 1)``, naming the argument.

    Args:
        name: The argument's name, for the message.
        value: The probability.
    """
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def make_norm(kind: str, width: int) -> nn.Module:
    """A normalization layer over ``width`` features.

    Args:
        kind: ``batchnorm``, ``layernorm`` or ``none`` (identity).
        width: Features it normalizes.
    """
    if kind == "batchnorm":
        return nn.BatchNorm1d(width)
    if kind == "layernorm":
        return nn.LayerNorm(width)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm={kind!r} is not one of {', '.join(NORMS)}")


def make_activation(name: str) -> nn.Module:
    """A fresh activation module.

    Args:
        name: ``relu``, ``gelu`` or ``silu``.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is not one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


__all__ = [
    "ACTIVATIONS",
    "NORMS",
    "check_dropout",
    "make_activation",
    "make_norm",
    "num_features",
]
