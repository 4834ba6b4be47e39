"""Seeded train/val/test splits, for tensors in memory and for lists of files alike."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from pegboard_data_vision.decoded import Split

#: Every datamodule serves these splits, in this order.
SPLITS = ("train", "val", "test")


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


def take(split: Split, indices: torch.Tensor) -> Split:
    """The samples of ``split`` at ``indices``, in that order.

    Args:
        split: ``(items, labels)``: tensors (one gather each) or lists (file paths, labels).
        indices: Positions in the split.
    """
    items, labels = split
    if isinstance(items, torch.Tensor):
        return items[indices], labels[indices]
    chosen = indices.tolist()
    return [items[i] for i in chosen], [labels[i] for i in chosen]


def assemble(
    train: Split, given: Mapping[str, Split], plan: Mapping[str, torch.Tensor]
) -> dict[str, Split]:
    """Every split: those ``given`` as they are, the others cut from ``train`` by ``plan``.

    Args:
        train: The training source that the plan indexes.
        given: Held-out splits the dataset supplies itself.
        plan: Indices into ``train`` per split, from ``ImageDataModule.plan_split``.

    Raises:
        ValueError: The plan leaves a split without data or cuts one that is given.
    """
    lacking = [name for name in SPLITS if (name in plan) == (name in given)]
    if lacking:
        raise ValueError(
            f"the split plan must cut exactly the splits not given ({', '.join(lacking)}): "
            f"it cuts {sorted(plan)}, the dataset gives {sorted(given)}"
        )
    return {name: given[name] if name in given else take(train, plan[name]) for name in SPLITS}


__all__ = ["assemble", "split_indices", "take"]
