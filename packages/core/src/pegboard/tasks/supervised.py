"""``SupervisedModel``: the training loop of a supervised task, classes or values."""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from pegboard.model import Model, OptimizerFactory, SchedulerFactory
from pegboard.supervision import REGRESSION, TASKS, Values, check_task, target_of
from pegboard.tasks.ema import WeightEMA
from pegboard.tasks.epoch_logging import EpochLogging
from pegboard.tasks.epoch_sums import EpochSums
from pegboard.tasks.objectives import (
    LOSSES,
    ClassificationObjective,
    Objective,
    RegressionObjective,
)
from pegboard.tasks.target_scale import TargetScale


def make_objective(
    task: str,
    num_classes: int | None,
    num_outputs: int | None,
    loss: str | None,
    label_smoothing: float,
    huber_delta: float,
) -> Objective:
    """The objective of ``task`` from a model's plain-value options.

    Args:
        task: ``classification`` or ``regression``.
        num_classes: Classes, for classification.
        num_outputs: Values per sample, for regression (``None``: 1).
        loss: The loss name, or ``None`` for the task's default.
        label_smoothing: For classification.
        huber_delta: For regression's Huber loss.
    """
    check_task(task)
    if loss is not None and loss not in LOSSES[task]:
        raise ValueError(f"loss={loss!r} is not a {task} loss; valid: {', '.join(LOSSES[task])}")
    if task == REGRESSION:
        return RegressionObjective(int(num_outputs or 1), loss or "mse", huber_delta)
    if num_classes is None:
        raise ValueError("a classification model needs num_classes")
    return ClassificationObjective(int(num_classes), label_smoothing)


class SupervisedModel(EpochLogging, Model):
    """A ``Model`` that trains ``self.net`` for a task: classes or real values.

    Subclasses build ``self.net``, mapping ``(batch, *input_shape)`` to
    ``(batch, self.output_size)``; this class supplies the steps, the loss and the
    metrics, logged as epoch means under ``train/``, ``val/`` and ``test/``: ``loss``
    and ``acc`` for classification; ``loss``, ``mae``, ``rmse`` and ``r2`` for
    regression; and ``train/loss_step`` on the trainer's logging steps.

    A regression model learns standardized targets (the datamodule's
    ``Values.mean`` and ``Values.std``, taken when fitting starts and saved in its
    checkpoints) and answers in the data's own units.

    Training features that suit any network are switches here: an EMA of the weights,
    channels-last memory format and ``torch.compile``. Mixed precision is the trainer's
    ``precision`` (``trainer.precision=bf16-mixed``).

    Args:
        task: ``classification`` or ``regression``.
        num_classes: Number of classes the logits cover (classification).
        num_outputs: Values per sample (regression; ``None`` means 1).
        loss: ``cross_entropy`` for classes; ``mse`` or ``huber`` for values. ``None``
            is the task's first.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``.
        huber_delta: The Huber loss's threshold, in standard deviations of the target.
        optimizer: See ``pegboard.Model``.
        scheduler: See ``pegboard.Model``.
        scheduler_interval: See ``pegboard.Model``.
        scheduler_monitor: See ``pegboard.Model``.
        ema_decay: Keep an exponential moving average of the weights with this decay
            (such as ``0.999``); the average answers validation, test, predict and
            ``forward`` in eval mode, and is saved in checkpoints. ``None`` turns it off.
        channels_last: Store conv weights and 4-D inputs channels-last (NHWC), which
            conv kernels on recent GPUs and CPUs with oneDNN run faster.
        compile: Run the training forward through ``torch.compile``.
    """

    tasks: ClassVar[tuple[str, ...]] = TASKS
    net: torch.nn.Module
    ema: WeightEMA | None
    # Not a registered sub-module: the compiled wrapper shares ``net``'s weights and must
    # not add a second copy of them to the state dict.
    _compiled_net: Any = None

    def __init__(
        self,
        task: str = "classification",
        num_classes: int | None = None,
        num_outputs: int | None = None,
        loss: str | None = None,
        label_smoothing: float = 0.0,
        huber_delta: float = 1.0,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val/loss",
        ema_decay: float | None = None,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        super().__init__(optimizer, scheduler, scheduler_interval, scheduler_monitor)
        if task not in type(self).tasks:
            raise ValueError(
                f"{type(self).__name__} does {' and '.join(type(self).tasks)}, not {task!r}"
            )
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay}")
        self.objective = make_objective(
            task, num_classes, num_outputs, loss, label_smoothing, huber_delta
        )
        self.task = task
        self.num_classes = num_classes if task != REGRESSION else None
        self.num_outputs = self.objective.outputs if task == REGRESSION else None
        self.label_smoothing = label_smoothing
        self.ema_decay = ema_decay
        self.channels_last = channels_last
        self.use_compile = compile
        # Only regression has one: a classifier's state dict stays what it always was.
        self.target_scale = TargetScale(self.objective.outputs) if task == REGRESSION else None
        # Built in setup(), once the subclass has built self.net.
        self.ema = None
        names = self.objective.sum_names
        self._epoch_sums = {stage: EpochSums(names) for stage in ("train", "val", "test")}
        # (epoch, step) of a checkpoint whose training sums were restored.
        self._restored_train_position: tuple[int, int] | None = None

    @property
    def output_size(self) -> int:
        """What ``self.net`` outputs per sample: one logit per class, or one per value."""
        return int(self.objective.outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(batch, num_classes)``, or values ``(batch, num_outputs)``.

        In eval mode a model with an EMA answers with the averaged weights.

        Args:
            x: A batch of inputs.
        """
        raw = self.ema(x) if self.ema is not None and not self.training else self.net(x)
        return self.target_scale(raw) if self.target_scale is not None else raw

    def inference_network(self) -> torch.nn.Module:
        """The plain network that ``forward`` runs in eval mode (EMA copy or ``net``).

        Export it rather than the LightningModule, which TorchScript cannot trace
        outside a Trainer (``pegboard.export`` does this for any model offering it).
        A regression network ends with its ``TargetScale``.
        """
        network = self.ema.module if self.ema is not None else self.net
        if self.target_scale is None:
            return network
        return torch.nn.Sequential(network, self.target_scale)

    def _ensure_ema(self) -> None:
        if self.ema_decay is not None and self.ema is None:
            self.ema = WeightEMA(self.net, self.ema_decay)

    def setup(self, stage: str) -> None:
        """Build the EMA copy, take the target scale, switch memory format and compile.

        Args:
            stage: ``"fit"``, ``"validate"``, ``"test"`` or ``"predict"``.
        """
        self._ensure_ema()
        if stage == "fit" and self.target_scale is not None:
            # Before a resumed checkpoint's weights are loaded: they then win.
            datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
            target = target_of(datamodule)
            if isinstance(target, Values) and target.mean is not None and target.std is not None:
                self.target_scale.set(target.mean, target.std)
        if self.channels_last:
            self.to(memory_format=torch.channels_last)
        if self.use_compile and self._compiled_net is None and stage == "fit":
            # Set past nn.Module.__setattr__, which would register the wrapper as a
            # sub-module and save every weight twice under `_compiled_net._orig_mod`.
            object.__setattr__(self, "_compiled_net", torch.compile(self.net))

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """Load weights, first creating the EMA copy when the state holds one.

        Args:
            state_dict: As for ``torch.nn.Module.load_state_dict``.
            strict: As for ``torch.nn.Module.load_state_dict``.
            assign: As for ``torch.nn.Module.load_state_dict``.
        """
        if any(key.startswith("ema.") for key in state_dict):
            self._ensure_ema()
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        """Step the optimizer, then move the EMA towards the new weights."""
        super().optimizer_step(*args, **kwargs)
        if self.ema is not None:
            self.ema.update(self.net)

    def _outputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """``forward``'s answer, through the compiled network while training with one."""
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        if not (self.training and self._compiled_net is not None):
            return self(inputs)
        raw = self._compiled_net(inputs)
        return self.target_scale(raw) if self.target_scale is not None else raw

    def _scored_step(self, batch: Any, stage: str) -> tuple[torch.Tensor, dict[str, Any]]:
        inputs, targets = batch
        outputs = self._outputs(inputs)
        if self.target_scale is not None:
            # Values: the loss compares standardized outputs with standardized targets.
            targets = targets.reshape(len(targets), -1).float()
            standardize = self.target_scale.standardize
            loss = self.objective.loss(standardize(outputs), standardize(targets), stage)
        else:
            loss = self.objective.loss(outputs, targets, stage)
        self._epoch_sums[stage].add(self.objective.batch_sums(loss, outputs, targets), len(targets))
        return loss, self.objective.test_outputs(outputs, targets)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """The loss of one batch.

        Logs ``train/loss_step`` every ``trainer.log_every_n_steps`` steps; the epoch
        means follow at the end of the epoch.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        loss = self._scored_step(batch, "train")[0]
        if self._is_logging_step():
            self.log("train/loss_step", loss, on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def _is_logging_step(self) -> bool:
        # Only the steps the loggers record (Lightning's own rule): self.log costs about
        # 0.7 ms a call, as much as a small network's whole step on a CPU.
        if self._trainer is None:
            return False
        every = int(getattr(self.trainer, "log_every_n_steps", 0))  # 0: never
        return every > 0 and (self.global_step + 1) % every == 0

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Scores one batch; the ``val/`` means are logged at the epoch's end.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        self._scored_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:  # type: ignore[override]
        """Scores one batch and returns each sample's prediction and target.

        The ``test/`` means are logged at the epoch's end. The returned dict feeds the
        runner's plots: ``prediction`` and ``target`` classes (the confusion matrix), or
        ``values`` and ``target_values`` (the predicted-against-true scatter).

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        return self._scored_step(batch, "test")[1]

    def predict_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Class probabilities and the predicted class, or the predicted values.

        Args:
            batch: ``(inputs, targets)`` or bare inputs.
            batch_idx: Index of the batch.
        """
        inputs = batch[0] if isinstance(batch, list | tuple) else batch
        return self.objective.predictions(self._outputs(inputs))


__all__ = ["SupervisedModel", "make_objective"]
