"""Image-agnostic classification: cross-entropy, accuracy, class probabilities."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from pegboard.model import Model, OptimizerFactory, SchedulerFactory
from pegboard.tasks.ema import WeightEMA


class ClassificationModel(Model):
    """A ``Model`` that trains ``forward``'s logits against class targets.

    Targets are integer class indices ``(batch,)`` or class probabilities
    ``(batch, num_classes)`` (what mixup and cutmix produce); accuracy then counts the
    most probable class as the label.

    Subclasses only build ``self.net`` (or override ``forward``); this class supplies the
    steps, the loss and the metrics ``{train,val,test}/loss`` and ``{train,val,test}/acc``.

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

    def _shared_step(self, batch: Any, stage: str) -> torch.Tensor:
        return self._scored_step(batch, stage)[0]

    def _scored_step(
        self, batch: Any, stage: str
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        inputs, targets = batch
        logits = self._logits(inputs)
        smoothing = self.label_smoothing if stage == "train" else 0.0
        loss = F.cross_entropy(logits, targets, label_smoothing=smoothing)
        # Mixup/cutmix give class probabilities (batch, classes): score the dominant class.
        labels = targets.argmax(dim=1) if targets.ndim == 2 else targets
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        on_step = stage == "train"
        size = len(targets)
        # Epoch-level validation and test metrics are averaged over every DDP process.
        sync = stage != "train"
        self.log(
            f"{stage}/loss",
            loss,
            on_step=on_step,
            on_epoch=True,
            batch_size=size,
            prog_bar=stage != "test",
            sync_dist=sync,
        )
        self.log(
            f"{stage}/acc",
            accuracy,
            on_step=False,
            on_epoch=True,
            batch_size=size,
            prog_bar=stage != "train",
            sync_dist=sync,
        )
        return loss, logits, labels

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        """Cross-entropy of one batch; logs ``train/loss`` and ``train/acc``.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        return self._shared_step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Logs ``val/loss`` and ``val/acc``.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        self._shared_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:  # type: ignore[override]
        """Logs ``test/loss`` and ``test/acc``; returns each sample's prediction and label.

        The returned dict feeds callbacks such as the runner's confusion matrix.

        Args:
            batch: ``(inputs, targets)``.
            batch_idx: Index of the batch in the epoch.
        """
        _, logits, labels = self._scored_step(batch, "test")
        return {"prediction": logits.argmax(dim=1).detach(), "target": labels.detach()}

    def predict_step(self, batch: Any, batch_idx: int) -> dict[str, torch.Tensor]:
        """Class probabilities and the predicted class of each input.

        Args:
            batch: ``(inputs, targets)`` or bare inputs.
            batch_idx: Index of the batch.
        """
        inputs = batch[0] if isinstance(batch, list | tuple) else batch
        probabilities = self._logits(inputs).softmax(dim=1)
        return {"probabilities": probabilities, "prediction": probabilities.argmax(dim=1)}
