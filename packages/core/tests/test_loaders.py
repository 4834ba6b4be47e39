"""TensorBatchLoader: batches sliced from tensors, seeded shuffles, DDP shards."""

from __future__ import annotations

import pytest
import torch

from pegboard.loaders import TensorBatchLoader


def _data(n: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(n).float().unsqueeze(1), torch.arange(n)


def test_unshuffled_batches_cover_every_sample_in_order() -> None:
    loader = TensorBatchLoader(*_data(), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert torch.cat([targets for _, targets in batches]).tolist() == list(range(10))
    for inputs, targets in batches:
        assert inputs.squeeze(1).long().tolist() == targets.tolist()


def test_drop_last_drops_the_incomplete_batch() -> None:
    loader = TensorBatchLoader(*_data(), batch_size=4, drop_last=True)
    assert [len(targets) for _, targets in loader] == [4, 4]


def test_shuffle_is_seeded_and_changes_every_epoch() -> None:
    first = TensorBatchLoader(*_data(), batch_size=10, shuffle=True, seed=3)
    second = TensorBatchLoader(*_data(), batch_size=10, shuffle=True, seed=3)
    epoch0 = next(iter(first))[1].tolist()
    assert epoch0 == next(iter(second))[1].tolist()
    assert sorted(epoch0) == list(range(10))
    assert next(iter(first))[1].tolist() != epoch0


def test_ranks_read_disjoint_equal_shards() -> None:
    shards = [
        torch.cat(
            [t for _, t in TensorBatchLoader(*_data(9), 2, shuffle=True, rank=r, world_size=2)]
        )
        for r in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == 5
    # 9 samples over 2 ranks: one sample is repeated to pad, all are seen.
    assert set(shards[0].tolist()) | set(shards[1].tolist()) == set(range(9))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"batch_size": 0}, "batch_size"), ({"batch_size": 2, "rank": 2, "world_size": 2}, "rank")],
)
def test_invalid_arguments_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TensorBatchLoader(*_data(), **kwargs)


def test_unpadded_shards_cover_every_sample_exactly_once() -> None:
    from pegboard.loaders import UnpaddedDistributedSampler

    inputs, targets = torch.arange(7).float().unsqueeze(1), torch.arange(7)
    seen = []
    for rank in range(3):
        loader = TensorBatchLoader(inputs, targets, 2, rank=rank, world_size=3, pad=False)
        batches = list(loader)
        assert len(batches) == len(loader)
        seen += [int(t) for _, batch_targets in batches for t in batch_targets]
        sampler = UnpaddedDistributedSampler(range(7), rank, 3)
        assert list(sampler) == list(range(rank, 7, 3)) and len(sampler) == len(list(sampler))
    assert sorted(seen) == list(range(7))
    padded = TensorBatchLoader(inputs, targets, 2, rank=2, world_size=3)
    assert padded.num_samples == 3  # training shards stay equal: one sample repeated
