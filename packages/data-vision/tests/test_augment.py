"""Batch augmentation: each option does what it says, seeded, and only while training."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard_data_vision.augment import BatchAugment
from pegboard_data_vision.synthetic import SyntheticDataModule


def batch(size: int = 16, channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(size, channels, 8, 8, generator=generator)
    return inputs, torch.arange(size) % 10


def augmenter(**options) -> BatchAugment:
    return BatchAugment(num_classes=10, mean=[0.5] * 3, std=[0.25] * 3, **options)


def test_same_seed_same_batches_other_seed_other_batches() -> None:
    options = dict(crop_padding=2, flip=True, brightness=0.3, cutout=3, mixup_alpha=0.4)
    first, again, other = (
        augmenter(seed=1, **options),
        augmenter(seed=1, **options),
        augmenter(seed=2, **options),
    )
    inputs, targets = batch()
    for _ in range(3):
        a, b, c = first(inputs, targets), again(inputs, targets), other(inputs, targets)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_crop_shifts_images_within_the_padding() -> None:
    inputs, targets = batch()
    cropped, same_targets = augmenter(crop_padding=1, padding_mode="constant")(inputs, targets)
    assert cropped.shape == inputs.shape and torch.equal(same_targets, targets)
    for image, original in zip(cropped, inputs, strict=True):
        padded = torch.nn.functional.pad(original, (1, 1, 1, 1))
        windows = [padded[:, y : y + 8, x : x + 8] for y in range(3) for x in range(3)]
        assert any(torch.equal(image, window) for window in windows)


def test_flip_mirrors_about_half_the_images() -> None:
    inputs, targets = batch(64)
    flipped, _ = augmenter(flip=True)(inputs, targets)
    mirrored = [torch.equal(a, b.flip(2)) for a, b in zip(flipped, inputs, strict=True)]
    kept = [torch.equal(a, b) for a, b in zip(flipped, inputs, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 16 < sum(mirrored) < 48


def test_cutout_blanks_one_square_per_image_to_the_mean() -> None:
    inputs, targets = batch()
    holed, _ = augmenter(cutout=4)(inputs + 10, targets)
    blank = (holed == 0).all(dim=1)  # the mean colour is 0 after normalization
    assert ((blank.sum(dim=(1, 2)) > 0) & (blank.sum(dim=(1, 2)) <= 16)).all()


def test_colour_jitter_stays_in_the_pixel_range() -> None:
    inputs, targets = batch()
    jittered, _ = augmenter(brightness=0.5, contrast=0.5, saturation=0.5)(inputs, targets)
    pixels = jittered * 0.25 + 0.5
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6
    assert not torch.allclose(jittered, inputs.clamp(-2, 2))


@pytest.mark.parametrize("options", [{"mixup_alpha": 0.4}, {"cutmix_alpha": 1.0}])
def test_mixing_gives_probability_targets(options) -> None:
    inputs, targets = batch()
    mixed, soft = augmenter(**options)(inputs, targets)
    assert soft.shape == (16, 10) and torch.allclose(soft.sum(dim=1), torch.ones(16))
    assert (soft.max(dim=1).values >= 0.5 - 1e-6).all() or not torch.equal(mixed, inputs)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="padding_mode"):
        augmenter(padding_mode="wrap")
    with pytest.raises(ConfigError, match="not an augmentation option"):
        BatchAugment.from_config({"rotate": 10}, num_classes=10, mean=[0], std=[1], seed=0)


def test_datamodule_augments_training_batches_only() -> None:
    datamodule = SyntheticDataModule(
        train_size=32, test_size=8, augment={"flip": True, "cutout": 4}, input_shape=[3, 8, 8]
    )
    datamodule.setup("fit")
    inputs, targets = next(iter(datamodule.val_dataloader()))
    for training, changed in ((False, False), (True, True)):
        datamodule.trainer = SimpleNamespace(training=training, global_rank=0, world_size=1)
        out, _ = datamodule.on_after_batch_transfer((inputs, targets), 0)
        assert torch.equal(out, inputs) is not changed
    off = SyntheticDataModule(train_size=32, test_size=8, augment=None)
    off.setup("fit")
    assert off.augmenter is None
