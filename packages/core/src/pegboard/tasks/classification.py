"""Image-agnostic classification: cross-entropy, accuracy, class probabilities."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from pegboard.model import Model, OptimizerFactory, SchedulerFactory
from pegboard.tasks.ema import WeightEMA
from pegboard.tasks.epoch_means import EpochMeans

_TRAIN_SUMS_KEY = "pegboard_train_sums"


class ClassificationModel(Model):
    """A ``Model`` that trains ``forward``'s logits against class targets.

    Targets are integer class indices ``(batch,)`` or class probabilities
    ``(batch, num_classes)`` (what mixup and cutmix produce); accuracy then counts the
    most probable class as the label.

    Subclasses only build ``self.net`` (or override ``forward``); this class supplies the
    steps, the loss and the metrics: the epoch means ``{train,val,test}/loss`` and
    ``{train,val,test}/acc``, and ``train/loss_step`` on the trainer's logging steps.

    Training features that suit any network are switches here: an EMA of the weights,
    channels-last memory format and ``torch.compile``. Mixed precision is the trainer's
    ``precision`` (``trainer.precision=bf16-mixed``).

    Args:
        num_classes: Number of classes the logits cover.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)``.
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

    net: torch.nn.Module
    ema: WeightEMA | None
    # Not a registered sub-module: the compiled wrapper shares ``net``'s weights and must
    # not add a second copy of them to the state dict.
    _compiled_net: Any = None

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
        super().__init__(optimizer, scheduler, scheduler_interval, scheduler_monitor)
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay}")
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.ema_decay = ema_decay
        self.channels_last = channels_last
        self.use_compile = compile
        # Built in setup(), once the subclass has built self.net.
        self.ema = None
        self._epoch_means = {stage: EpochMeans() for stage in ("train", "val", "test")}
        # (epoch, step) of a checkpoint whose training sums were restored.
        self._restored_train_position: tuple[int, int] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits of shape ``(batch, num_classes)``.

        In eval mode a model with an EMA answers with the averaged weights.

        Args:
            x: A batch of inputs.
        """
        if self.ema is not None and not self.training:
            return self.ema(x)
        return self.net(x)

    def inference_network(self) -> torch.nn.Module:
        """The plain network that ``forward`` runs in eval mode: the EMA copy or ``net``.

        Export it rather than the LightningModule, which TorchScript cannot trace
        outside a Trainer (``pegboard.export`` does this for any model offering it).
        """
        return self.ema.module if self.ema is not None else self.net

    def _ensure_ema(self) -> None:
        if self.ema_decay is not None and self.ema is None:
            self.ema = WeightEMA(self.net, self.ema_decay)

    def setup(self, stage: str) -> None:
        """Build the EMA copy, switch the memory format and compile, as the options ask.

        Args:
            stage: ``"fit"``, ``"validate"``, ``"test"`` or ``"predict"``.
        """
        self._ensure_ema()
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

    def _logits(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.channels_last and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        if self.training and self._compiled_net is not None:
            return self._compiled_net(inputs)
        return self(inputs)

    def _scored_step(
        self, batch: Any, stage: str
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        inputs, targets = batch
        logits = self._logits(inputs)
        smoothing = self.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(logits, targets, label_smoothing=smoothing)
        # Mixup/cutmix give class probabilities (batch, classes): score the dominant class.
        labels = targets.argmax(dim=1) if targets.ndim == 2 else targets
        self._epoch_means[stage].update(loss, logits, labels)
        return loss, logits, labels

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """Cross-entropy of one batch.

        Logs ``train/loss_step`` every ``trainer.log_every_n_steps`` steps; the epoch
        means ``train/loss`` and ``train/acc`` follow at the end of the epoch.

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
        """Scores one batch; ``val/loss`` and ``val/acc`` are logged at the epoch's end.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        self._scored_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:  # type: ignore[override]
        """Scores one batch and returns each sample's prediction and label.

        ``test/loss`` and ``test/acc`` are logged at the epoch's end. The returned dict
        feeds callbacks such as the runner's confusion matrix.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        _, logits, labels = self._scored_step(batch, "test")
        return {"prediction": logits.argmax(dim=1).detach(), "target": labels.detach()}

    def _start_epoch(self, stage: str) -> None:
        position = (self.current_epoch, self.global_step)
        # Sums restored from a checkpoint taken inside the epoch that training resumes
        # carry on; a checkpoint loaded to start a new run does not bring its sums.
        if stage != "train" or self._restored_train_position != position:
            self._epoch_means[stage].reset()
        if stage == "train":
            self._restored_train_position = None

    def _log_epoch_means(self, stage: str) -> None:
        sums = self._epoch_means[stage]
        totals = sums.totals(self.device)
        # Emptied once logged: a checkpoint saved after the epoch's end carries no sums.
        sums.reset()
        if self.trainer.world_size > 1:
            # Every process's sums and counts, added: the evaluation shards are not padded
            # (their sizes differ), so this is the mean over each sample counted once.
            totals = self.trainer.strategy.reduce(totals, reduce_op="sum")
        loss_sum, correct, count = totals.tolist()
        if count == 0:
            return
        # The same values on every process, so Lightning's mean over them changes nothing
        # (sync_dist only spares the warning it gives for epoch values without it).
        sync = self.trainer.world_size > 1
        self.log(f"{stage}/loss", loss_sum / count, prog_bar=stage != "test", sync_dist=sync)
        self.log(f"{stage}/acc", correct / count, prog_bar=stage != "train", sync_dist=sync)

    def on_train_epoch_start(self) -> None:
        """Start the epoch's sums, unless they were restored mid-epoch."""
        super().on_train_epoch_start()
        self._start_epoch("train")

    def on_train_epoch_end(self) -> None:
        """Log ``train/loss`` and ``train/acc``, the means over the epoch."""
        self._log_epoch_means("train")

    def on_validation_epoch_start(self) -> None:
        """Start the validation sums."""
        self._start_epoch("val")

    def on_validation_epoch_end(self) -> None:
        """Log ``val/loss`` and ``val/acc``, the means over every validation sample."""
        self._log_epoch_means("val")

    def on_test_epoch_start(self) -> None:
        """Start the test sums."""
        self._start_epoch("test")

    def on_test_epoch_end(self) -> None:
        """Log ``test/loss`` and ``test/acc``, the means over every test sample."""
        self._log_epoch_means("test")

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Save the training sums, so a run resumed mid-epoch reports whole-epoch means.

        Args:
            checkpoint: The checkpoint being written.
        """
        state = self._epoch_means["train"].state_dict()
        checkpoint[_TRAIN_SUMS_KEY] = {
            **state,
            "epoch": self.current_epoch,
            "step": self.global_step,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the training sums saved by ``on_save_checkpoint``.

        Args:
            checkpoint: The checkpoint being read.
        """
        state = checkpoint.get(_TRAIN_SUMS_KEY)
        if state is not None:
            self._epoch_means["train"].load_state_dict(state)
            self._restored_train_position = (state["epoch"], state["step"])

    def predict_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Class probabilities and the predicted class of each input.

        Args:
            batch: ``(inputs, targets)`` or bare inputs.
            batch_idx: Index of the batch.
        """
        inputs = batch[0] if isinstance(batch, list | tuple) else batch
        probabilities = self._logits(inputs).softmax(dim=1)
        return {"probabilities": probabilities, "prediction": probabilities.argmax(dim=1)}


__all__ = ["ClassificationModel"]
