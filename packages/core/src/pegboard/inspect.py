"""Size and cost of a model: parameter counts and forward FLOPs, overall and per block."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


def _count(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _blocks(model: nn.Module) -> tuple[str, list[tuple[str, nn.Module]]]:
    # Walk down wrappers of a single child (a LightningModule around `net`, a Sequential
    # around a body) to the first level that has several blocks worth listing.
    prefix, module = "", model
    while True:
        children = list(module.named_children())
        if len(children) != 1:
            return prefix, children
        name, module = children[0]
        prefix = f"{prefix}{name}."


def model_info(model: nn.Module, input_shape: Sequence[int], batch_size: int = 1) -> dict[str, Any]:
    """Count parameters and measure the FLOPs of one forward pass.

    FLOPs come from ``torch.utils.flop_counter.FlopCounterMode``, which counts matrix
    multiplications, convolutions and attention (a multiply-add is 2 FLOPs) and ignores
    element-wise operations, as published model FLOP figures do. The forward runs in eval
    mode without gradients on zeros of ``(batch_size, *input_shape)``; the figures are
    per sample.

    Args:
        model: The model (any ``nn.Module`` taking one batched tensor).
        input_shape: Shape of one input, such as ``[3, 32, 32]``.
        batch_size: Samples in the measured batch (per-sample figures do not depend on it
            for the usual layers; BatchNorm in eval mode needs no more than 1).

    Returns:
        ``parameters``, ``trainable_parameters``, ``flops`` (per sample), ``input_shape``,
        ``output_shape`` and ``blocks``: one dict per top-level block with ``name``,
        ``type``, ``parameters`` and ``flops``.
    """
    from torch.utils.flop_counter import FlopCounterMode

    first = next(iter(model.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    inputs = torch.zeros(batch_size, *input_shape, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            outputs = model(inputs)
    finally:
        model.train(was_training)
    by_module = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    root = type(model).__name__
    prefix, children = _blocks(model)
    blocks = [
        {
            "name": prefix + name,
            "type": type(child).__name__,
            "parameters": _count(child),
            "flops": by_module.get(f"{root}.{prefix}{name}", 0) // batch_size,
        }
        for name, child in children
    ]
    return {
        "parameters": _count(model),
        "trainable_parameters": _count(model, trainable_only=True),
        "flops": counter.get_total_flops() // batch_size,
        "input_shape": [int(d) for d in input_shape],
        "output_shape": list(outputs.shape[1:]) if isinstance(outputs, torch.Tensor) else None,
        "blocks": blocks,
    }


def human(number: float) -> str:
    """Format a count with a K, M, G or T suffix (``1_234_567`` -> ``"1.23M"``).

    Args:
        number: The count.
    """
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(number) >= scale:
            return f"{number / scale:.2f}{unit}"
    return f"{number:.0f}"


__all__ = ["human", "model_info"]
