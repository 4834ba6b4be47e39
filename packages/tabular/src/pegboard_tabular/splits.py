"""Seeded train/val/test splits of a table's rows, stratified by class for classification.

The same ``split_seed`` gives the same split on every machine and process (numpy's
``default_rng``), so DDP processes and a later ``eval`` agree on which rows are held out.
"""

from __future__ import annotations

import numpy as np

from pegboard.errors import ConfigError

#: The splits every datamodule serves, in this order.
SPLITS = ("train", "val", "test")


def _allocate(total: int, sizes: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Share ``total`` rows among groups in proportion to ``sizes``, none above its cap.

    Largest remainders first (ties to the earlier group), so the shares sum to ``total``
    whenever the caps allow it.
    """
    if total == 0 or sizes.sum() == 0:
        return np.zeros_like(sizes)
    quotas = total * sizes / sizes.sum()
    shares = np.minimum(np.floor(quotas).astype(np.int64), caps)
    # Stable sort: equal remainders go to groups in order.
    for group in np.argsort(-(quotas - np.floor(quotas)), kind="stable"):
        if shares.sum() >= total:
            break
        if shares[group] < caps[group]:
            shares[group] += 1
    for group in range(len(sizes)):  # caps may have left some of the total unplaced
        extra = min(total - int(shares.sum()), int(caps[group] - shares[group]))
        shares[group] += max(extra, 0)
    return shares


def plan_split(
    rows: int,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    classes: np.ndarray | None = None,
    source: str = "the data",
) -> dict[str, np.ndarray]:
    """Row indices of each split, sorted; stratified by ``classes`` when given.

    Each class keeps at least one training row; held-out rows are shared among the
    classes in proportion to their size. ``round(rows * fraction)`` rows are held out
    for each split.

    Args:
        rows: Number of rows.
        val_fraction: Fraction of the rows for validation.
        test_fraction: Fraction of the rows for testing.
        seed: Seeds the shuffle.
        classes: Class index of every row, or ``None`` for a plain shuffle (regression).
        source: The file, for messages.

    Raises:
        ConfigError: A split with a fraction above 0 would have no rows, or training none.
    """
    rng = np.random.default_rng(seed)
    if classes is None:
        groups = [rng.permutation(rows)]
    else:
        groups = [rng.permutation(np.flatnonzero(classes == c)) for c in np.unique(classes)]
    sizes = np.array([len(group) for group in groups], dtype=np.int64)
    caps = np.maximum(sizes - 1, 0)  # every class keeps a training row
    test = _allocate(round(rows * test_fraction), sizes, caps)
    val = _allocate(round(rows * val_fraction), sizes, caps - test)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for group, n_test, n_val in zip(groups, test.tolist(), val.tolist(), strict=True):
        parts["test"].append(group[:n_test])
        parts["val"].append(group[n_test : n_test + n_val])
        parts["train"].append(group[n_test + n_val :])
    plan = {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}
    wanted = {"train": 1.0, "val": val_fraction, "test": test_fraction}
    if any(fraction > 0 and len(plan[name]) == 0 for name, fraction in wanted.items()):
        raise ConfigError(
            f"{source} has {rows} usable rows: too few for data.val_fraction={val_fraction} "
            f"and data.test_fraction={test_fraction} (each split needs a row"
            + (", and each class a training row" if classes is not None else "")
            + "); give more rows or lower the fractions"
        )
    return plan


__all__ = ["SPLITS", "plan_split"]
