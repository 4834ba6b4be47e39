"""The abstract ``pegboard.DataModule``: a LightningDataModule that describes its data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from pegboard.errors import ConfigError
from pegboard.signature import publish_signature
from pegboard.supervision import Classes, TargetSpec, Values


@dataclass
class PredictInputs:
    """Inputs a datamodule read from a user's file for ``pegboard predict input=PATH``.

    Args:
        inputs: The model inputs, ``(samples, *input_shape)``, transformed exactly as in
            training.
        rows: One dict per sample of what identifies it in the output, written beside
            its prediction: the input file's own columns, or ``{"input": path}``.
    """

    inputs: Any
    rows: list[dict[str, Any]] = field(default_factory=list)


class DataModule(pl.LightningDataModule, ABC):
    """Base class of every pegboard datamodule.

    A datamodule states what its batches look like so that model configs can take those
    numbers by interpolation (``num_classes: ${data.num_classes}``) instead of repeating
    them. The data config carries the same facts (``input_shape``; ``num_classes`` for
    classes, or ``task: regression`` and ``num_outputs`` for values) and the runner checks
    them against the datamodule with ``check_declared``. A data config may leave them
    ``null``: the runner then asks the built datamodule, before the model is built.

    Batches are ``(inputs, targets)`` pairs: ``inputs`` shaped ``(batch, *input_shape)``;
    ``targets`` integer class indices ``(batch,)`` for ``Classes``, or a float tensor
    ``(batch, count)`` for ``Values``.

    A subclass describes its targets in one of two ways: ``num_classes`` and
    ``class_names`` (classification, as before targets existed), or ``target``.
    ``input_shape`` and ``target`` may read the data (a CSV's columns): they are asked
    before ``setup``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Publish the full signature of a subclass whose ``__init__`` forwards ``**kwargs``.

        A subclass written ``__init__(self, own..., **kwargs)`` that passes the rest to
        its base reports its own arguments followed by the base's in
        ``inspect.signature(cls)``, so pegboard still refuses a config key it does not take
        (``data.bach_size``) and checks each value against its annotation. ``__init__`` is left
        as written, for ``save_hyperparameters``. See ``pegboard.signature``.

        Args:
            **kwargs: Class keywords, passed on to ``super().__init_subclass__``.
        """
        super().__init_subclass__(**kwargs)
        publish_signature(cls)

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input without the batch dimension, such as ``(1, 8, 8)``."""

    @property
    def target(self) -> TargetSpec:
        """What the targets are: ``Classes`` or ``Values`` (``pegboard.supervision``).

        The default describes classes from ``num_classes`` and ``class_names``; a
        datamodule of values overrides this instead.
        """
        if type(self).num_classes is DataModule.num_classes:
            raise NotImplementedError(
                f"{type(self).__name__} must define `target` (or `num_classes` and "
                "`class_names`) to say what its targets are"
            )
        return Classes(int(self.num_classes), tuple(str(name) for name in self.class_names))

    @property
    def num_classes(self) -> int:
        """Number of target classes (``AttributeError`` for targets that are values)."""
        target = self.target
        if not isinstance(target, Classes):
            raise AttributeError(f"{type(self).__name__} has values as targets, not classes")
        return target.count

    @property
    def class_names(self) -> list[str]:
        """Human-readable name of each class, indexed by class number."""
        if type(self).num_classes is not DataModule.num_classes:
            return [str(index) for index in range(self.num_classes)]
        target = self.target
        if not isinstance(target, Classes):
            raise AttributeError(f"{type(self).__name__} has values as targets, not classes")
        return list(target.names or (str(index) for index in range(target.count)))

    def predict_inputs(self, path: Path) -> PredictInputs:
        """Read a user's file for ``pegboard predict input=PATH``, transformed as in training.

        Called on a datamodule built from the checkpoint's data config, after its saved
        ``state_dict`` was loaded (``setup`` is not called: the training files may be
        gone). The default raises ``NotImplementedError``: the runner then reads ``PATH``
        as images.

        Args:
            path: The file or folder the user named.
        """
        raise NotImplementedError

    def check_declared(
        self,
        input_shape: Sequence[int] | None,
        num_classes: int | None,
        num_outputs: int | None = None,
    ) -> None:
        """Raise ``ConfigError`` when the config's description disagrees with the data.

        Args:
            input_shape: ``input_shape`` from the data config, or ``None`` to skip.
            num_classes: ``num_classes`` from the data config, or ``None`` to skip.
            num_outputs: ``num_outputs`` from the data config, or ``None`` to skip.
        """
        name = type(self).__name__
        if input_shape is not None and tuple(input_shape) != tuple(self.input_shape):
            raise ConfigError(
                f"data.input_shape={list(input_shape)} but {name} yields inputs of shape "
                f"{list(self.input_shape)}; set data.input_shape={list(self.input_shape)}"
            )
        if num_classes is not None:
            try:
                # num_classes, not target: class names may be known only after setup.
                actual: int | None = self.num_classes
            except AttributeError:  # values, not classes
                actual = None
            if actual != num_classes:
                has = f"{actual} classes" if actual is not None else "values, not classes"
                fix = f"; set data.num_classes={actual}" if actual is not None else ""
                raise ConfigError(f"data.num_classes={num_classes} but {name} has {has}{fix}")
        if num_outputs is not None:
            target = self.target
            if not isinstance(target, Values) or num_outputs != target.count:
                raise ConfigError(
                    f"data.num_outputs={num_outputs} but {name}'s targets are {target.describe()}"
                )


__all__ = ["DataModule", "PredictInputs"]
