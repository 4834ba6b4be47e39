"""The abstract ``pegboard.Model``: a LightningModule whose optimizer comes from config."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import pytorch_lightning as pl
import torch

from pegboard.signature import publish_signature

OptimizerFactory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], Any]

_DEFAULT_LR = 1e-3


class Model(pl.LightningModule, ABC):
    """Base class of every pegboard model.

    Subclasses take plain values (sizes, counts, flags) in their constructor, build their
    network there and call ``self.save_hyperparameters(ignore=["optimizer", "scheduler"])``
    so that ``Class.load_from_checkpoint(path)`` rebuilds them without any config.
    Options they only pass on to their base may arrive as ``**kwargs``: the class
    signature still lists them (see ``__init_subclass__``).

    The optimizer and the LR scheduler arrive as Hydra partials (``_partial_: true``):
    callables that still miss the parameters or the optimizer. Metrics are logged under
    ``train/``, ``val/`` and ``test/`` names.

    Args:
        optimizer: Builds the optimizer from the parameters. ``None`` uses Adam(lr=1e-3),
            which is what a model restored for inference gets.
        scheduler: Builds an LR scheduler from the optimizer, or ``None`` for a constant LR.
        scheduler_interval: ``"epoch"`` or ``"step"``: when the scheduler steps.
        scheduler_monitor: Metric a ``ReduceLROnPlateau`` scheduler watches.
    """

    #: The tasks the class does (``pegboard.supervision.TASKS``); empty: not stated. The
    #: runner refuses data of another task before training.
    tasks: ClassVar[tuple[str, ...]] = ()
    #: Names of the parameters frozen for fine-tuning (``model.freeze``, set by the
    #: runner): ``configure_optimizers`` leaves them out.
    frozen_parameters: frozenset[str] = frozenset()

    def __init__(
        self,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val/loss",
    ) -> None:
        super().__init__()
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Publish the full signature of a subclass whose ``__init__`` forwards ``**kwargs``.

        A subclass written ``__init__(self, own..., **task_options)`` that passes the rest to
        its base reports its own arguments followed by the base's in
        ``inspect.signature(cls)``, so pegboard still refuses a config key it does not take
        (``model.ema_decy``) and checks each value against its annotation. ``__init__`` is left
        as written, for ``save_hyperparameters``. See ``pegboard.signature``.

        Args:
            **kwargs: Class keywords, passed on to ``super().__init_subclass__``.
        """
        super().__init_subclass__(**kwargs)
        publish_signature(cls)

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of inputs to the model's raw outputs (logits for classifiers).

        Args:
            x: A batch of inputs shaped ``(batch, *input_shape)``.
        """

    @abstractmethod
    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """Return the loss of one training batch and log ``train/`` metrics.

        Args:
            batch: One batch from the datamodule's train loader.
            batch_idx: Index of the batch in the epoch.
        """

    @abstractmethod
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Log ``val/`` metrics of one batch; ``val/loss`` at least.

        Args:
            batch: One batch from the datamodule's validation loader.
            batch_idx: Index of the batch in the epoch.
        """

    @abstractmethod
    def test_step(self, batch: Any, batch_idx: int) -> None:
        """Log ``test/`` metrics of one batch, under the same names as ``validation_step``.

        Args:
            batch: One batch from the datamodule's test loader.
            batch_idx: Index of the batch in the epoch.
        """

    def on_train_epoch_start(self) -> None:
        """Tell loaders that draw their own order (``set_epoch``) which epoch starts.

        Lightning restores a loader's position only from a checkpoint taken mid-epoch,
        so a ``TensorBatchLoader`` resumed from one taken between epochs would repeat
        the first epoch's order. Subclasses that override this hook call ``super()``.
        """
        loaders = self.trainer.train_dataloader
        if isinstance(loaders, Mapping):
            loaders = list(loaders.values())
        elif not isinstance(loaders, list | tuple):
            loaders = [loaders]
        for loader in loaders:
            set_epoch = getattr(loader, "set_epoch", None)
            if callable(set_epoch):
                set_epoch(self.current_epoch)

    def configure_optimizers(self) -> Any:
        """Build the optimizer (and scheduler) from the partials given at construction.

        The optimizer gets every parameter but the ``frozen_parameters``. Parameters that
        never have gradients by design (an EMA copy) stay in, as they always have: the
        optimizer state saved in checkpoints keeps its layout.
        """
        parameters: Iterable[torch.nn.Parameter] = self.parameters()
        if self.frozen_parameters:
            frozen = self.frozen_parameters
            parameters = [p for name, p in self.named_parameters() if name not in frozen]
        if self.optimizer_factory is None:
            optimizer: torch.optim.Optimizer = torch.optim.Adam(parameters, lr=_DEFAULT_LR)
        else:
            optimizer = self.optimizer_factory(parameters)
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": self.scheduler_interval,
                "monitor": self.scheduler_monitor,
            },
        }


__all__ = ["Model", "OptimizerFactory", "SchedulerFactory"]
