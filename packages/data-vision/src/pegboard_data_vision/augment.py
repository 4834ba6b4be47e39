"""Batch augmentation on the device, after transfer: whole batches, no per-sample Python.

Images arrive normalized (``(pixel - mean) / std``). Geometric operations, cutout and
mixing work in that space (cutout and constant padding fill with 0, the mean colour);
colour jitter goes back to pixel space, jitters, clamps to ``[0, 1]`` and normalizes again.

Every random draw comes from a ``torch.Generator`` on the batch's device (per-sample
draws) or a seeded NumPy generator (one scalar per batch, so the device never has to
synchronise with the host): the same seed gives the same augmented batches.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from pegboard.errors import ConfigError

_LUMA = (0.299, 0.587, 0.114)


class BatchAugment:
    """Random crop with padding, flip, colour jitter, cutout and mixup/cutmix on a batch.

    Each option is off at its default. Mixup and cutmix turn integer targets into class
    probabilities of shape ``(batch, num_classes)``, which ``ClassificationModel`` accepts.

    Args:
        num_classes: Number of classes (for the probability targets of mixing).
        mean: Per-channel mean the inputs were normalized with, in ``[0, 1]`` units.
        std: Per-channel standard deviation the inputs were normalized with.
        seed: Seeds every random draw.
        crop_padding: Pad each side by this many pixels, then crop back at a random offset.
        padding_mode: ``"constant"`` (the mean colour) or ``"reflect"``.
        flip: Mirror half the images left to right.
        brightness: Scale pixels by a factor drawn from ``[1 - b, 1 + b]``.
        contrast: Scale the distance to each image's mean grey by ``[1 - c, 1 + c]``.
        saturation: Scale the distance to each pixel's grey by ``[1 - s, 1 + s]`` (RGB only).
        cutout: Side in pixels of a square set to the mean colour in each image; 0 is off.
        mixup_alpha: Beta(alpha, alpha) parameter of mixup; 0 is off.
        cutmix_alpha: Beta(alpha, alpha) parameter of cutmix; 0 is off.
        mix_prob: Probability that a batch is mixed (when mixup or cutmix is on). With
            both on, each mixed batch takes one of them at even odds.
    """

    def __init__(
        self,
        num_classes: int,
        mean: Sequence[float],
        std: Sequence[float],
        seed: int = 0,
        crop_padding: int = 0,
        padding_mode: str = "constant",
        flip: bool = False,
        brightness: float = 0.0,
        contrast: float = 0.0,
        saturation: float = 0.0,
        cutout: int = 0,
        mixup_alpha: float = 0.0,
        cutmix_alpha: float = 0.0,
        mix_prob: float = 1.0,
    ) -> None:
        if padding_mode not in ("constant", "reflect"):
            raise ConfigError(
                f"data.augment.padding_mode={padding_mode!r}: use 'constant' or 'reflect'"
            )
        for name, value in (
            ("brightness", brightness),
            ("contrast", contrast),
            ("saturation", saturation),
        ):
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"data.augment.{name}={value}: must be in [0, 1)")
        if crop_padding < 0 or cutout < 0 or mixup_alpha < 0 or cutmix_alpha < 0:
            raise ConfigError("data.augment: crop_padding, cutout and the alphas must be >= 0")
        self.num_classes = num_classes
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        self.seed = seed
        self.crop_padding = crop_padding
        self.padding_mode = padding_mode
        self.flip = flip
        self.jitter = (brightness, contrast, saturation)
        self.cutout = cutout
        self.alphas = (mixup_alpha, cutmix_alpha)
        self.mix_prob = mix_prob
        self._generators: dict[torch.device, torch.Generator] = {}
        self._rng = np.random.default_rng(seed)

    @classmethod
    def from_config(cls, options: Mapping[str, Any], **fixed: Any) -> BatchAugment:
        """Build from a config's ``augment:`` node, naming any key it does not know.

        Args:
            options: The ``augment`` node as a mapping.
            **fixed: Arguments the datamodule supplies (classes, statistics, seed).
        """
        known = set(inspect.signature(cls).parameters) - set(fixed)
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"data.augment.{unknown[0]} is not an augmentation option; "
                f"choose from: {', '.join(sorted(known))}"
            )
        return cls(**fixed, **options)

    @property
    def enabled(self) -> bool:
        """Whether any option is on."""
        return bool(
            self.crop_padding or self.flip or any(self.jitter) or self.cutout or any(self.alphas)
        )

    def _generator(self, device: torch.device) -> torch.Generator:
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]

    def __call__(
        self, inputs: torch.Tensor, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment one batch.

        Args:
            inputs: Normalized images ``(batch, channels, height, width)``.
            targets: Integer class indices ``(batch,)``.

        Returns:
            The augmented images and the targets (class probabilities when mixed).
        """
        generator = self._generator(inputs.device)
        if self.crop_padding:
            inputs = self._crop(inputs, generator)
        if self.flip:
            mask = torch.rand(len(inputs), device=inputs.device, generator=generator) < 0.5
            inputs = torch.where(mask.view(-1, 1, 1, 1), inputs.flip(3), inputs)
        if any(self.jitter):
            inputs = self._color(inputs, generator)
        if self.cutout:
            inputs = self._cutout(inputs, generator)
        if any(self.alphas) and self._rng.random() < self.mix_prob:
            inputs, targets = self._mix(inputs, targets, generator)
        return inputs, targets

    def _crop(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch, _, height, width = x.shape
        pad = self.crop_padding
        padded = F.pad(x, (pad, pad, pad, pad), mode=self.padding_mode)
        offsets = torch.randint(0, 2 * pad + 1, (2, batch), device=x.device, generator=generator)
        rows = offsets[0, :, None] + torch.arange(height, device=x.device)
        cols = offsets[1, :, None] + torch.arange(width, device=x.device)
        index = torch.arange(batch, device=x.device)[:, None, None]
        # Advanced indices around a slice put their dimensions first: (B, H, W, C).
        return padded[index, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)

    def _factors(
        self, amount: float, batch: int, x: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        draw = torch.rand(batch, 1, 1, 1, device=x.device, generator=gen)
        return 1.0 + (2.0 * draw - 1.0) * amount

    def _color(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mean, std = self.mean.to(x.device), self.std.to(x.device)
        pixels = x * std + mean
        brightness, contrast, saturation = self.jitter
        batch = len(x)
        if brightness:
            pixels = pixels * self._factors(brightness, batch, x, generator)
        if contrast:
            grey = pixels.mean(dim=(1, 2, 3), keepdim=True)
            pixels = (pixels - grey) * self._factors(contrast, batch, x, generator) + grey
        if saturation and x.shape[1] == 3:
            luma = torch.tensor(_LUMA, device=x.device).view(1, 3, 1, 1)
            grey = (pixels * luma).sum(dim=1, keepdim=True)
            pixels = (pixels - grey) * self._factors(saturation, batch, x, generator) + grey
        return (pixels.clamp(0.0, 1.0) - mean) / std

    def _cutout(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch, _, height, width = x.shape
        centres = torch.rand(2, batch, 1, device=x.device, generator=generator)
        top = (centres[0] * height).long() - self.cutout // 2
        left = (centres[1] * width).long() - self.cutout // 2
        rows = torch.arange(height, device=x.device)[None, :]
        cols = torch.arange(width, device=x.device)[None, :]
        in_rows = (rows >= top) & (rows < top + self.cutout)
        in_cols = (cols >= left) & (cols < left + self.cutout)
        hole = in_rows[:, None, :, None] & in_cols[:, None, None, :]
        return x.masked_fill(hole, 0.0)

    def _mix(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mixup_alpha, cutmix_alpha = self.alphas
        use_cutmix = cutmix_alpha > 0 and (mixup_alpha == 0 or self._rng.random() < 0.5)
        alpha = cutmix_alpha if use_cutmix else mixup_alpha
        lam = float(self._rng.beta(alpha, alpha))
        order = torch.randperm(len(x), device=x.device, generator=generator)
        if use_cutmix:
            height, width = x.shape[2:]
            cut_h, cut_w = int(height * math.sqrt(1 - lam)), int(width * math.sqrt(1 - lam))
            cy, cx = int(self._rng.integers(height)), int(self._rng.integers(width))
            top, bottom = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
            left, right = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
            x = x.clone()
            x[:, :, top:bottom, left:right] = x[order, :, top:bottom, left:right]
            # The box was clipped at the border: weigh the labels by the area really pasted.
            lam = 1.0 - (bottom - top) * (right - left) / (height * width)
        else:
            x = lam * x + (1.0 - lam) * x[order]
        soft = y if y.is_floating_point() else F.one_hot(y, self.num_classes).to(x.dtype)
        return x, lam * soft + (1.0 - lam) * soft[order]


def training_augment(
    options: Mapping[str, Any] | None,
    input_shape: Sequence[int],
    num_classes: int,
    mean: Sequence[float],
    std: Sequence[float],
    seed: int,
) -> BatchAugment | None:
    """A datamodule's augmentation of training batches, or ``None`` when every option is off.

    Args:
        options: The config's ``augment`` node (``None`` or empty: off).
        input_shape: The datamodule's input shape; augmentation needs ``[c, h, w]``.
        num_classes: Number of classes.
        mean: The normalization mean, in ``[0, 1]`` units.
        std: The normalization standard deviation.
        seed: Seeds every draw (offset by the process rank, so each process draws its own).
    """
    if not options:
        return None
    if len(input_shape) != 3:
        raise ConfigError(
            f"data.augment needs image inputs [c, h, w], "
            f"not {list(input_shape)}; set data.augment=null"
        )
    augmenter = BatchAugment.from_config(
        options, num_classes=num_classes, mean=mean, std=std, seed=seed
    )
    return augmenter if augmenter.enabled else None


__all__ = ["BatchAugment", "training_augment"]
