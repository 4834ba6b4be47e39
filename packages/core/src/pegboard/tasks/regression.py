"""Regression: real-valued targets, MSE or Huber loss, MAE, RMSE and R²."""

from __future__ import annotations

from typing import ClassVar

from pegboard.model import OptimizerFactory, SchedulerFactory
from pegboard.supervision import REGRESSION
from pegboard.tasks.supervised import SupervisedModel


class RegressionModel(SupervisedModel):
    """A ``SupervisedModel`` for values: ``forward`` answers ``(batch, num_outputs)``.

    Targets are a float tensor ``(batch,)`` or ``(batch, num_outputs)``. The network
    learns standardized targets (``pegboard.tasks.TargetScale``, set from the
    datamodule's ``Values.mean`` and ``Values.std`` when fitting starts) and ``forward``
    answers in the data's units. Logged: the epoch means ``{train,val,test}/loss``,
    ``/mae``, ``/rmse`` and ``/r2``, and ``train/loss_step``.

    Args:
        num_outputs: Values per sample.
        loss: ``mse`` or ``huber``.
        huber_delta: The Huber loss's threshold, in standard deviations of the target.
        optimizer: See ``pegboard.Model``.
        scheduler: See ``pegboard.Model``.
        scheduler_interval: See ``pegboard.Model``.
        scheduler_monitor: See ``pegboard.Model``.
        ema_decay: See ``pegboard.tasks.SupervisedModel``.
        compile: See ``pegboard.tasks.SupervisedModel``.
    """

    tasks: ClassVar[tuple[str, ...]] = (REGRESSION,)
    num_outputs: int

    def __init__(
        self,
        num_outputs: int = 1,
        loss: str = "mse",
        huber_delta: float = 1.0,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val/loss",
        ema_decay: float | None = None,
        compile: bool = False,
    ) -> None:
        super().__init__(
            REGRESSION,
            num_outputs=num_outputs,
            loss=loss,
            huber_delta=huber_delta,
            optimizer=optimizer,
            scheduler=scheduler,
            scheduler_interval=scheduler_interval,
            scheduler_monitor=scheduler_monitor,
            ema_decay=ema_decay,
            compile=compile,
        )


__all__ = ["RegressionModel"]
