"""The epoch hooks of ``SupervisedModel``: start the sums, log the means, keep them on resume."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from pegboard.tasks.epoch_sums import EpochSums

#: Where a checkpoint keeps the training sums of an unfinished epoch.
TRAIN_SUMS_KEY = "pegboard_train_sums"


class EpochLogging(pl.LightningModule):
    """Logs a task's metrics once per epoch from sums over every sample.

    Mixed into ``SupervisedModel``, which sets ``objective`` and ``_epoch_sums`` (one
    ``EpochSums`` per stage) and ``_restored_train_position``.
    """

    objective: Any
    _epoch_sums: dict[str, EpochSums]
    _restored_train_position: tuple[int, int] | None

    def _start_epoch(self, stage: str) -> None:
        position = (self.current_epoch, self.global_step)
        # Sums restored from a checkpoint taken inside the epoch that training resumes
        # carry on; a checkpoint loaded to start a new run does not bring its sums.
        if stage != "train" or self._restored_train_position != position:
            self._epoch_sums[stage].reset()
        if stage == "train":
            self._restored_train_position = None

    def _log_epoch_means(self, stage: str) -> None:
        sums = self._epoch_sums[stage]
        totals = sums.totals(self.device)
        # Emptied once logged: a checkpoint saved after the epoch's end carries no sums.
        sums.reset()
        if self.trainer.world_size > 1:
            # Every process's sums and counts, added: the evaluation shards are not padded
            # (their sizes differ), so this is the mean over each sample counted once.
            totals = self.trainer.strategy.reduce(totals, reduce_op="sum")
        *values, count = totals.tolist()
        if count == 0:
            return
        # The same values on every process, so Lightning's mean over them changes nothing
        # (sync_dist only spares the warning it gives for epoch values without it).
        sync = self.trainer.world_size > 1
        shown = self.objective.progress[stage]
        for name, value in self.objective.metrics(values, count).items():
            self.log(f"{stage}/{name}", value, prog_bar=name in shown, sync_dist=sync)

    def on_train_epoch_start(self) -> None:
        """Start the epoch's sums, unless they were restored mid-epoch."""
        super().on_train_epoch_start()
        self._start_epoch("train")

    def on_train_epoch_end(self) -> None:
        """Log the ``train/`` means over the epoch."""
        self._log_epoch_means("train")

    def on_validation_epoch_start(self) -> None:
        """Start the validation sums."""
        self._start_epoch("val")

    def on_validation_epoch_end(self) -> None:
        """Log the ``val/`` means over every validation sample."""
        self._log_epoch_means("val")

    def on_test_epoch_start(self) -> None:
        """Start the test sums."""
        self._start_epoch("test")

    def on_test_epoch_end(self) -> None:
        """Log the ``test/`` means over every test sample."""
        self._log_epoch_means("test")

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Save the training sums, so a run resumed mid-epoch reports whole-epoch means.

        Args:
            checkpoint: The checkpoint being written.
        """
        state = self._epoch_sums["train"].state_dict()
        checkpoint[TRAIN_SUMS_KEY] = {
            **state,
            "epoch": self.current_epoch,
            "step": self.global_step,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the training sums saved by ``on_save_checkpoint``.

        Args:
            checkpoint: The checkpoint being read.
        """
        state = checkpoint.get(TRAIN_SUMS_KEY)
        if state is not None:
            self._epoch_sums["train"].load_state_dict(state)
            self._restored_train_position = (state["epoch"], state["step"])


__all__ = ["TRAIN_SUMS_KEY", "EpochLogging"]
