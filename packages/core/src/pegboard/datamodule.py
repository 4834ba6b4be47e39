"""The abstract ``pegboard.DataModule``: a LightningDataModule that describes its data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import pytorch_lightning as pl

from pegboard.errors import ConfigError
from pegboard.signature import publish_signature


class DataModule(pl.LightningDataModule, ABC):
    """Base class of every pegboard datamodule.

    A datamodule states what its batches look like so that model configs can take those
    numbers by interpolation (``num_classes: ${data.num_classes}``) instead of repeating
    them. The data config therefore carries ``input_shape`` and ``num_classes``, and the
    datamodule checks them against its data with ``check_declared``.

    Batches are ``(inputs, targets)`` pairs: ``inputs`` shaped ``(batch, *input_shape)``,
    ``targets`` integer class indices in ``[0, num_classes)``.
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
    @abstractmethod
    def num_classes(self) -> int:
        """Number of target classes."""

    @property
    @abstractmethod
    def class_names(self) -> list[str]:
        """Human-readable name of each class, indexed by class number."""

    def check_declared(self, input_shape: Sequence[int] | None, num_classes: int | None) -> None:
        """Raise ``ConfigError`` when the config's description disagrees with the data.

        Args:
            input_shape: ``input_shape`` from the data config, or ``None`` to skip.
            num_classes: ``num_classes`` from the data config, or ``None`` to skip.
        """
        name = type(self).__name__
        if input_shape is not None and tuple(input_shape) != tuple(self.input_shape):
            raise ConfigError(
                f"data.input_shape={list(input_shape)} but {name} yields inputs of shape "
                f"{list(self.input_shape)}; set data.input_shape={list(self.input_shape)}"
            )
        if num_classes is not None and num_classes != self.num_classes:
            raise ConfigError(
                f"data.num_classes={num_classes} but {name} has {self.num_classes} classes; "
                f"set data.num_classes={self.num_classes}"
            )


__all__ = ["DataModule"]
