"""Image-agnostic classification: cross-entropy, accuracy, class probabilities."""

from __future__ import annotations

from typing import ClassVar

from pegboard.model import OptimizerFactory, SchedulerFactory
from pegboard.supervision import CLASSIFICATION
from pegboard.tasks.supervised import SupervisedModel


class ClassificationModel(SupervisedModel):
    """A ``SupervisedModel`` for classes: ``forward``'s logits against class targets.

    Targets are integer class indices ``(batch,)`` or class probabilities
    ``(batch, num_classes)`` (what mixup and cutmix produce); accuracy then counts the
    most probable class as the label.

    Subclasses only build ``self.net`` (or override ``forward``); this class supplies the
    steps, the loss and the metrics: the epoch means ``{train,val,test}/loss`` and
    ``{train,val,test}/acc``, and ``train/loss_step`` on the trainer's logging steps.

    Args:
        num_classes: Number of classes the logits cover.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``.
        optimizer: See ``pegboard.Model``.
        scheduler: See ``pegboard.Model``.
        scheduler_interval: See ``pegboard.Model``.
        scheduler_monitor: See ``pegboard.Model``.
        ema_decay: See ``pegboard.tasks.SupervisedModel``.
        channels_last: See ``pegboard.tasks.SupervisedModel``.
        compile: See ``pegboard.tasks.SupervisedModel``.
    """

    tasks: ClassVar[tuple[str, ...]] = (CLASSIFICATION,)
    num_classes: int

    def __init__(
        self,
        num_classes: int,
        label_smoothing: float = 0.0,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val/loss",
        ema_decay: float | None = None,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        super().__init__(
            CLASSIFICATION,
            num_classes=num_classes,
            label_smoothing=label_smoothing,
            optimizer=optimizer,
            scheduler=scheduler,
            scheduler_interval=scheduler_interval,
            scheduler_monitor=scheduler_monitor,
            ema_decay=ema_decay,
            channels_last=channels_last,
            compile=compile,
        )


__all__ = ["ClassificationModel"]
