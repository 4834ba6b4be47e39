"""Learning curves and the task's test plots as PNG files (and TensorBoard images).

Classes get a confusion matrix; values a predicted-against-true scatter and the
residuals (``pegboard.runner.value_plots``).

matplotlib is imported inside each function, with the non-interactive Agg backend, so
importing the runner costs nothing and plots work on machines without a display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEARNING_CURVES = "learning_curves.png"
CONFUSION_MATRIX = "confusion_matrix.png"
PREDICTED_VS_TRUE = "predicted_vs_true.png"
RESIDUALS = "residuals.png"


@dataclass
class TestResults:
    """What the test run left for plots: class counts, or predicted and true values.

    Args:
        counts: ``counts[true][predicted]`` of a classifier, or ``None``.
        class_names: Class names for the matrix axes (numbers when ``None``); for
            values, the names of the values.
        predicted: Predicted values per sample (``[[v0, v1...], ...]``), or ``None``.
        true: True values per sample, in the same order.
    """

    counts: Sequence[Sequence[int]] | None = None
    class_names: Sequence[str] | None = None
    predicted: Sequence[Sequence[float]] | None = None
    true: Sequence[Sequence[float]] | None = None


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def learning_curves_figure(epochs: Sequence[Mapping[str, float]]) -> Any:
    """A figure of loss (left) and the task's score (right) per epoch, train and validation.

    Args:
        epochs: One mapping per epoch with ``epoch`` and metrics such as ``train/loss``,
            ``val/loss``, ``train/acc``, ``val/acc`` (or ``val/r2``; missing ones are
            left out).
    """
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    score = "r2" if any("val/r2" in row or "train/r2" in row for row in epochs) else "acc"
    for axis, kind in zip(axes, ("loss", score), strict=True):
        for stage in ("train", "val"):
            name = f"{stage}/{kind}"
            points = [(row["epoch"], row[name]) for row in epochs if name in row]
            if points:
                xs, ys = zip(*points, strict=True)
                axis.plot(xs, ys, marker="o", label=stage)
        axis.set_xlabel("epoch")
        axis.set_ylabel({"acc": "accuracy", "r2": "R²"}.get(kind, kind))
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
    figure.suptitle("Learning curves")
    figure.tight_layout()
    return figure


def confusion_matrix_figure(counts: Sequence[Sequence[int]], class_names: Sequence[str]) -> Any:
    """A heat map of true (rows) against predicted (columns) classes, with the counts.

    Args:
        counts: ``counts[true][predicted]``.
        class_names: One name per class.
    """
    plt = pyplot()
    size = len(class_names)
    figure, axis = plt.subplots(figsize=(max(4, 0.5 * size + 2), max(4, 0.5 * size + 1.5)))
    image = axis.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axis)
    axis.set_xticks(range(size), labels=list(class_names), rotation=90 if size > 10 else 0)
    axis.set_yticks(range(size), labels=list(class_names))
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if size <= 20:  # numbers in the cells stay readable up to about this many classes
        peak = max((max(row) for row in counts), default=0) or 1
        for true, row in enumerate(counts):
            for predicted, count in enumerate(row):
                colour = "white" if count > peak / 2 else "black"
                axis.text(predicted, true, str(count), ha="center", va="center", color=colour)
    total = sum(sum(row) for row in counts) or 1
    accuracy = sum(counts[i][i] for i in range(size)) / total
    axis.set_title(f"Confusion matrix (test accuracy {accuracy:.4f})")
    figure.tight_layout()
    return figure


def save(figure: Any, path: Path) -> Path:
    """Write ``figure`` as a PNG and release it.

    Args:
        figure: A matplotlib figure.
        path: The PNG file.
    """
    plt = pyplot()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def to_tensorboard(loggers: Sequence[Any], figures: Mapping[str, Any], step: int = 0) -> int:
    """Add figures as images to every TensorBoard logger among ``loggers``.

    Args:
        loggers: The trainer's loggers.
        figures: Tag to matplotlib figure.
        step: The global step to file them under.

    Returns:
        How many loggers received them.
    """
    from pytorch_lightning.loggers import TensorBoardLogger

    boards = [logger for logger in loggers if isinstance(logger, TensorBoardLogger)]
    for logger in boards:
        for tag, figure in figures.items():
            logger.experiment.add_figure(tag, figure, global_step=step, close=False)
        # Closed here rather than at exit: the run's files are complete once it returns.
        logger.experiment.close()
    return len(boards)


def write_plots(
    run_dir: Path,
    epochs: Sequence[Mapping[str, float]],
    tested: TestResults | None = None,
    loggers: Sequence[Any] = (),
    step: int = 0,
) -> list[Path]:
    """Write the learning curves and the test plots of the task.

    Args:
        run_dir: Where the PNG files go.
        epochs: Per-epoch metrics (see ``learning_curves_figure``); none: no curves.
        tested: What the test run left; ``None``: no test plots.
        loggers: The trainer's loggers; TensorBoard ones get the images too.
        step: Global step for TensorBoard.

    Returns:
        The files written.
    """
    figures: dict[str, Any] = {}
    if epochs:
        figures[LEARNING_CURVES] = learning_curves_figure(epochs)
    tested = tested or TestResults()
    counts = tested.counts
    if counts is not None and len(counts):
        names = list(tested.class_names or [str(i) for i in range(len(counts))])
        if len(names) != len(counts):
            names = [str(i) for i in range(len(counts))]
        figures[CONFUSION_MATRIX] = confusion_matrix_figure(counts, names)
    if tested.predicted and tested.true:
        from pegboard.runner.value_plots import predicted_vs_true_figure, residuals_figure

        names = list(tested.class_names or [])
        figures[PREDICTED_VS_TRUE] = predicted_vs_true_figure(tested.predicted, tested.true, names)
        figures[RESIDUALS] = residuals_figure(tested.predicted, tested.true, names)
    to_tensorboard(loggers, {name.removesuffix(".png"): fig for name, fig in figures.items()}, step)
    return [save(figure, run_dir / name) for name, figure in figures.items()]


__all__ = [
    "CONFUSION_MATRIX",
    "LEARNING_CURVES",
    "PREDICTED_VS_TRUE",
    "RESIDUALS",
    "TestResults",
    "confusion_matrix_figure",
    "learning_curves_figure",
    "pyplot",
    "save",
    "to_tensorboard",
    "write_plots",
]
