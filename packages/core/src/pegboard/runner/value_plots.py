"""A regression's test plots: predicted against true values, and the residuals."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from pegboard.runner.plots import pyplot


def _columns(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


def _grid(count: int) -> tuple[int, int]:
    columns = min(count, 3)
    return math.ceil(count / columns), columns


def _title(names: Sequence[str], index: int, count: int) -> str:
    if len(names) == count and count > 1:
        return names[index]
    return names[0] if len(names) == 1 else (f"value {index}" if count > 1 else "")


def _per_value_figure(
    predicted: Sequence[Sequence[float]],
    true: Sequence[Sequence[float]],
    names: Sequence[str],
    draw: Callable[[Any, list[float], list[float]], None],
    title: str,
) -> Any:
    """One panel per value, each drawn by ``draw(axis, guesses, answers)``."""
    plt = pyplot()
    guesses, answers = _columns(predicted), _columns(true)
    rows, columns = _grid(len(answers))
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 4 * rows), squeeze=False)
    for index, (guess, answer) in enumerate(zip(guesses, answers, strict=True)):
        axis = axes[index // columns][index % columns]
        draw(axis, guess, answer)
        axis.set_title(_title(names, index, len(answers)))
        axis.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _scatter_against_truth(axis: Any, guess: list[float], answer: list[float]) -> None:
    axis.scatter(answer, guess, s=10, alpha=0.6)
    low, high = min(*answer, *guess), max(*answer, *guess)
    axis.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1)
    axis.set_xlabel("true")
    axis.set_ylabel("predicted")


def _scatter_residuals(axis: Any, guess: list[float], answer: list[float]) -> None:
    residuals = [a - g for a, g in zip(answer, guess, strict=True)]
    axis.scatter(guess, residuals, s=10, alpha=0.6)
    axis.axhline(0.0, color="grey", linestyle="--", linewidth=1)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true - predicted")


def predicted_vs_true_figure(
    predicted: Sequence[Sequence[float]], true: Sequence[Sequence[float]], names: Sequence[str]
) -> Any:
    """One scatter per value of predicted against true, with the line of a perfect model.

    Args:
        predicted: ``[[v0, v1...], ...]`` per test sample.
        true: The true values, the same shape.
        names: One name per value, or none.
    """
    title = f"Predicted against true ({len(true)} test samples)"
    return _per_value_figure(predicted, true, names, _scatter_against_truth, title)


def residuals_figure(
    predicted: Sequence[Sequence[float]], true: Sequence[Sequence[float]], names: Sequence[str]
) -> Any:
    """One scatter per value of the residual (true minus predicted) against the prediction.

    Args:
        predicted: ``[[v0, v1...], ...]`` per test sample.
        true: The true values, the same shape.
        names: One name per value, or none.
    """
    return _per_value_figure(predicted, true, names, _scatter_residuals, "Residuals")


__all__ = ["predicted_vs_true_figure", "residuals_figure"]
