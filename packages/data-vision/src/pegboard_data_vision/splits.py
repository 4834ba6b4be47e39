"""Seeded train/val/test splits of in-memory datasets."""

from __future__ import annotations

import torch


def split_indices(total: int, fractions: tuple[float, ...], seed: int) -> list[torch.Tensor]:
    """Shuffle ``range(total)`` with ``seed`` and cut it into parts of the given fractions.

    The first part takes whatever the others leave, so no sample is lost to rounding.

    Args:
        total: Number of samples.
        fractions: Fraction of each part after the first, each in ``[0, 1)``.
        seed: Seeds the shuffle; the same seed gives the same split on every machine.
    """
    if any(not 0.0 <= f < 1.0 for f in fractions) or sum(fractions) >= 1.0:
        raise ValueError(f"split fractions must each be in [0, 1) and sum below 1, got {fractions}")
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
    sizes = [round(total * f) for f in fractions]
    first = total - sum(sizes)
    return list(torch.split(order, [first, *sizes]))
