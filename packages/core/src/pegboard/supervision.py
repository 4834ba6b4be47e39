"""What a datamodule's targets are: classes or real values.

A ``pegboard.DataModule`` describes its targets with one of these (its ``target``
property), and a data config with the same facts as plain keys, so that model configs
take them by interpolation and the runner can tell, before training, whether a model
fits the data:

* classes: ``num_classes`` (and optionally ``task: classification``);
* values: ``task: regression`` and ``num_outputs`` (values per sample).

The runner picks metrics, plots, prediction columns and export checks by the task. This
module imports nothing heavy: the launcher reads it to check a command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

CLASSIFICATION = "classification"
REGRESSION = "regression"
#: The tasks pegboard's runner knows.
TASKS = (CLASSIFICATION, REGRESSION)
#: Data config keys that describe the data; ``null`` means "ask the built datamodule".
DESCRIBED_KEYS = ("input_shape", "task", "num_classes", "num_outputs")


@dataclass(frozen=True)
class Classes:
    """Targets are class indices in ``[0, count)``.

    Args:
        count: Number of classes (2 or more).
        names: One name per class, or ``None`` to name them by index.
    """

    count: int
    names: tuple[str, ...] | None = None
    task: ClassVar[str] = CLASSIFICATION

    def __post_init__(self) -> None:
        if int(self.count) < 2:
            raise ValueError(f"a classification target needs 2 or more classes, got {self.count}")
        if self.names is not None and len(self.names) != self.count:
            raise ValueError(f"{len(self.names)} class names for {self.count} classes")

    @property
    def outputs(self) -> int:
        """What a model outputs per sample: one logit per class."""
        return int(self.count)

    def describe(self) -> str:
        """``"2 classes"``: the target in words, for messages."""
        return f"{self.count} classes"


@dataclass(frozen=True)
class Values:
    """Targets are real values, ``count`` per sample (a float tensor ``(batch, count)``).

    Args:
        count: Values per sample.
        names: One name per value (the target columns), or ``None``.
        mean: Per-value mean of the training targets, when known: regression models
            learn standardized targets and answer in the data's own units.
        std: Per-value standard deviation of the training targets, with ``mean``.
    """

    count: int = 1
    names: tuple[str, ...] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    task: ClassVar[str] = REGRESSION

    def __post_init__(self) -> None:
        if int(self.count) < 1:
            raise ValueError(f"a regression target needs 1 or more values, got {self.count}")
        for label, given in (("names", self.names), ("mean", self.mean), ("std", self.std)):
            if given is not None and len(given) != self.count:
                raise ValueError(f"{len(given)} target {label} for {self.count} values")

    @property
    def outputs(self) -> int:
        """What a model outputs per sample: one number per value."""
        return int(self.count)

    def describe(self) -> str:
        """``"1 value"``: the target in words, for messages."""
        return f"{self.count} value{'s' if self.count != 1 else ''}"


TargetSpec = Classes | Values


def check_task(task: Any, where: str = "task") -> str:
    """``task`` when pegboard knows it, else a ``ValueError`` naming the valid ones.

    Args:
        task: A task name.
        where: The key it came from, for the message.
    """
    if task not in TASKS:
        raise ValueError(f"{where}={task!r} is not a task; valid: {', '.join(TASKS)}")
    return str(task)


def config_task(data: Mapping[str, Any]) -> str | None:
    """The task a data config declares: ``task``, else classification when it has classes.

    Args:
        data: A data node (values may still be ``None``: described by the data later).
    """
    task = data.get("task")
    if task is not None:
        return str(task)
    if data.get("num_classes") is not None:
        return CLASSIFICATION
    if data.get("num_outputs") is not None:
        return REGRESSION
    return None


def target_from_config(data: Mapping[str, Any]) -> TargetSpec | None:
    """The ``Classes`` or ``Values`` a resolved data config declares, or ``None``.

    Args:
        data: A resolved data node.
    """
    task = config_task(data)
    if task == CLASSIFICATION and data.get("num_classes") is not None:
        return Classes(int(data["num_classes"]))
    if task == REGRESSION:
        return Values(int(data.get("num_outputs") or 1))
    return None


def target_of(datamodule: Any) -> TargetSpec | None:
    """A datamodule's ``target``, or ``None`` when it cannot say (yet).

    ``None`` for an object without ``target``, and for a datamodule that knows its
    targets only after ``setup`` (class names read from its files), which raises.

    Args:
        datamodule: A built datamodule, or ``None``.
    """
    try:
        target = getattr(datamodule, "target", None)
    except (AttributeError, NotImplementedError, RuntimeError):
        return None
    return target if isinstance(target, Classes | Values) else None


def describe_inputs(shape: Sequence[int] | None) -> str:
    """``"inputs [10]"``: an input shape in words, for messages.

    Args:
        shape: The shape of one input, or ``None``.
    """
    return f"inputs {list(shape)}" if shape else "inputs of unknown shape"


__all__ = [
    "CLASSIFICATION",
    "DESCRIBED_KEYS",
    "REGRESSION",
    "TASKS",
    "Classes",
    "TargetSpec",
    "Values",
    "check_task",
    "config_task",
    "describe_inputs",
    "target_from_config",
    "target_of",
]
