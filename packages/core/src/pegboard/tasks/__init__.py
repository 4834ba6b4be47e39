"""Generic tasks: Model subclasses that implement training for a kind of problem."""

from pegboard.tasks.classification import ClassificationModel
from pegboard.tasks.regression import RegressionModel
from pegboard.tasks.supervised import SupervisedModel
from pegboard.tasks.target_scale import TargetScale

__all__ = ["ClassificationModel", "RegressionModel", "SupervisedModel", "TargetScale"]
