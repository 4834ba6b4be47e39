"""Generic tasks: Model subclasses that implement training for a kind of problem."""

from pegboard.tasks.classification import ClassificationModel

__all__ = ["ClassificationModel"]
