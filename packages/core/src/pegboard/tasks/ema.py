"""An exponential moving average (EMA) of a network's weights, kept beside the network."""

from __future__ import annotations

import copy

import torch
from torch import nn

from pegboard._compat import foreach_lerp_


class WeightEMA(nn.Module):
    """A frozen copy of a network whose weights follow the live ones as an EMA.

    After each optimizer step, ``update`` moves every parameter of the copy towards the
    live one: ``ema = decay * ema + (1 - decay) * live``. Buffers (BatchNorm running
    statistics) are copied as they are: they already are running averages. Early on the
    decay is capped at ``(1 + n) / (10 + n)`` after ``n`` updates, so a short run does
    not end with weights still close to their random start.

    The copy is a registered sub-module, so it is saved in checkpoints and restored with
    the model; its parameters never require gradients, so optimizers leave them alone.

    Args:
        net: The live network to follow.
        decay: Weight of the old average at each update, in ``(0, 1)``.
    """

    num_updates: torch.Tensor

    def __init__(self, net: nn.Module, decay: float) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(net)
        self.module.requires_grad_(False)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))
        # A host-side mirror of num_updates: reading the buffer each step would make
        # the host wait for the accelerator. Loading weights forgets it, so that the next
        # update reads the loaded buffer.
        self._count: int | None = None
        self.register_load_state_dict_post_hook(WeightEMA._forget_count)

    def current_decay(self) -> float:
        """The decay the next update uses (the warm-up cap included)."""
        if self._count is None:
            self._count = int(self.num_updates)
        updates = self._count + 1
        return min(self.decay, (1 + updates) / (10 + updates))

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        """Move the average one step towards ``net``'s current weights.

        Args:
            net: The live network; it must have the architecture the copy was made from.
        """
        decay = self.current_decay()
        averaged: list[torch.Tensor] = [
            p for p in self.module.parameters() if p.is_floating_point()
        ]
        live: list[torch.Tensor] = [p.detach() for p in net.parameters() if p.is_floating_point()]
        if averaged:
            foreach_lerp_(averaged, live, 1.0 - decay)
        for ema_buffer, buffer in zip(self.module.buffers(), net.buffers(), strict=True):
            ema_buffer.copy_(buffer)
        self.num_updates += 1
        self._count = (self._count or 0) + 1

    @staticmethod
    def _forget_count(module: nn.Module, incompatible_keys: object) -> None:
        # Called by load_state_dict (on this module or any parent) once weights are in.
        module._count = None  # type: ignore[assignment]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the averaged network.

        Args:
            x: A batch of inputs.
        """
        return self.module(x)


__all__ = ["WeightEMA"]
