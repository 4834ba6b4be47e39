"""Batches served straight from in-memory tensors: no worker pool, no per-sample Python."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data.distributed import DistributedSampler


class TensorBatchLoader:
    """Iterate over ``(inputs, targets)`` batches sliced from two tensors.

    A ``DataLoader`` over a ``TensorDataset`` indexes and collates every sample in
    Python; for datasets that fit in memory that costs more than the model step. This
    loader gathers a whole batch with one indexing operation.

    Under distributed training each process reads a disjoint shard, so set ``rank``
    and ``world_size`` from the trainer. Training shards are equally sized, the tail
    padded by wrapping around as ``DistributedSampler`` does (every process must take
    the same number of steps); with ``pad=False`` (validation, test, predict) the
    shards differ by at most one sample and every sample is seen exactly once, so
    metrics summed over the processes are those of one process over the whole set.

    Args:
        inputs: All inputs, first dimension the sample index.
        targets: All targets, same first dimension.
        batch_size: Samples per batch.
        shuffle: Draw a new permutation every epoch.
        drop_last: Drop the last incomplete batch.
        seed: Seeds the shuffling; epoch ``e`` uses ``seed + e``, so runs repeat.
        rank: This process's index among ``world_size`` processes.
        world_size: Number of processes sharing the data.
        pad: Make shards equal by repeating samples (for training).

    The loader is *stateful* in Lightning's sense (``state_dict``/``load_state_dict``):
    a checkpoint saved mid-epoch records the epoch and how many batches were handed
    out, and a resumed run continues with the same permutation, skipping those batches,
    so it sees exactly the batches an uninterrupted run would.
    """

    def __init__(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pad: bool = True,
    ) -> None:
        if len(inputs) != len(targets):
            raise ValueError(f"{len(inputs)} inputs but {len(targets)} targets")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}")
        self.inputs = inputs
        self.targets = targets
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.pad = pad
        #: Epochs started so far: the next ``__iter__`` serves epoch ``self.epoch``.
        self.epoch = 0
        # The epoch being served and how many of its batches were handed out.
        self._position = (0, 0)
        # Batches of the next epoch to skip, set by ``load_state_dict``.
        self._skip = 0

    @property
    def num_samples(self) -> int:
        """Samples this process sees per epoch."""
        if not self.pad:
            return len(range(self.rank, len(self.inputs), self.world_size))
        return math.ceil(len(self.inputs) / self.world_size)

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def _indices(self) -> torch.Tensor:
        total = len(self.inputs)
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(total, generator=generator)
        else:
            order = torch.arange(total)
        if not self.pad:
            return order[self.rank :: self.world_size]
        padded = self.num_samples * self.world_size
        if padded > total:
            order = torch.cat([order, order[: padded - total]])
        return order[self.rank : padded : self.world_size]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch, skip = self.epoch, self._skip
        indices = self._indices()
        self.epoch += 1
        self._skip = 0
        self._position = (epoch, skip)
        for batch in range(skip, len(self)):
            chosen = indices[batch * self.batch_size : (batch + 1) * self.batch_size]
            # Counted before the yield: a generator runs up to here exactly when the
            # consumer takes the batch, so the count is "batches handed out".
            self._position = (epoch, batch + 1)
            yield self.inputs[chosen], self.targets[chosen]

    def set_epoch(self, epoch: int) -> None:
        """Serve epoch ``epoch`` next.

        Lightning restores a loader's position only from a checkpoint taken mid-epoch;
        ``pegboard.Model`` calls this at every epoch start, so that training resumed
        from a checkpoint taken between epochs draws that epoch's order too.

        Args:
            epoch: The epoch about to start.
        """
        if epoch != self.epoch:
            # A mid-epoch position restored for this very epoch is kept.
            self.epoch, self._skip = epoch, 0

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: the current epoch and the batches it has handed out.

        Lightning saves this in checkpoints (it fetches without prefetching from
        loaders that have a length, so handed out means consumed).
        """
        epoch, batches = self._position
        if self.epoch == 0 or batches >= len(self):
            # Nothing started, or the epoch is over: the next one starts from its beginning.
            return {"epoch": self.epoch, "batches": 0}
        return {"epoch": epoch, "batches": batches}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from ``state_dict``: the next ``__iter__`` resumes that epoch mid-way.

        Args:
            state_dict: What ``state_dict`` returned.
        """
        epoch, batches = int(state_dict["epoch"]), int(state_dict["batches"])
        if batches >= len(self):
            epoch, batches = epoch + 1, 0
        self.epoch, self._skip = epoch, batches
        self._position = (epoch, batches)


class UnpaddedDistributedSampler(DistributedSampler):
    """A ``DistributedSampler`` that never repeats a sample to even out the shards.

    For evaluation under DDP: ``DistributedSampler`` pads the last shard by repeating
    samples, so a metric over the processes counts some samples twice. Lightning keeps
    a sampler that already is a ``DistributedSampler`` instead of adding its own.

    Args:
        dataset: The dataset (anything with a length).
        rank: This process's index.
        world_size: Number of processes.
    """

    def __init__(self, dataset: Any, rank: int, world_size: int) -> None:
        super().__init__(dataset, num_replicas=world_size, rank=rank, shuffle=False)
        self.num_samples = len(range(rank, len(dataset), world_size))
        self.total_size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.total_size, self.num_replicas))


__all__ = ["TensorBatchLoader", "UnpaddedDistributedSampler"]
