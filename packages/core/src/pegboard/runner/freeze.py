"""``model.freeze``: parts of a model that stay as they are for the whole run.

A frozen part's parameters get ``requires_grad=False`` and stay out of the optimizer
(``pegboard.Model.configure_optimizers`` leaves out ``frozen_parameters``), and its
BatchNorm and Dropout layers stay in eval mode: BatchNorm's running statistics are
weights too, and would drift towards the new data. ``KeepFrozen`` puts the parts back
in eval mode whenever something turns the model to training mode.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import pytorch_lightning as pl
from torch import nn

from pegboard.errors import ConfigError

#: How many names of parts a message lists.
_SHOWN = 8


@dataclass
class Frozen:
    """What ``freeze`` froze.

    Args:
        parameters: The names of the frozen parameters.
        modules: The names of the frozen modules (kept in eval mode).
        summary: The one line saying how much of the model is frozen.
    """

    parameters: list[str]
    modules: list[str]
    summary: str


def _under(name: str, part: str) -> bool:
    return name == part or name.startswith(part + ".")


def model_parts(model: nn.Module) -> str:
    """The model's top-level parts, each with its own parts, for messages.

    Args:
        model: The model.
    """
    described = []
    for name, child in model.named_children():
        inner = [f"{name}.{sub}" for sub, _ in child.named_children()]
        listed = ", ".join(inner[:_SHOWN]) + (", ..." if len(inner) > _SHOWN else "")
        described.append(f"{name} ({listed})" if inner else name)
    own = [name for name, _ in model.named_parameters(recurse=False)]
    return ", ".join(described + own) or "none"


def _unknown(model: nn.Module, name: str, label: str) -> ConfigError:
    known = [n for n, _ in model.named_modules() if n] + [n for n, _ in model.named_parameters()]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    return ConfigError(
        f"{label}: {name!r} names no part of {type(model).__name__}; its parts: "
        f"{model_parts(model)}.{hint}"
    )


def freeze(model: nn.Module, names: tuple[str, ...] | list[str], label: str = "") -> Frozen:
    """Freeze the parts ``names`` name: modules or parameters, or prefixes of them at a dot.

    Args:
        model: The built LightningModule.
        names: Part names such as ``net.features`` or ``net.0.weight``.
        label: How to name the setting in messages (default ``model.freeze=[...]``).

    Returns:
        What was frozen.

    Raises:
        ConfigError: A name that matches no module or parameter (the model's parts are
            listed), or names that leave nothing to train.
    """
    label = label or "model.freeze=[" + ", ".join(names) + "]"
    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    frozen: dict[str, nn.Parameter] = {}
    roots: list[str] = []
    for part in names:
        found = {name: p for name, p in parameters.items() if _under(name, part)}
        inside = [name for name in modules if name and _under(name, part)]
        if not found and not inside:
            raise _unknown(model, part, label)
        frozen.update(found)
        if part in modules:
            roots.append(part)
    count = sum(p.numel() for p in frozen.values())
    total = sum(p.numel() for p in parameters.values())
    if len(frozen) == len(parameters):
        raise ConfigError(
            f"{label} freezes all {total:,} parameters of {type(model).__name__}: nothing "
            "would train. Name only the parts to keep as they are; its parts: "
            f"{model_parts(model)}"
        )
    for parameter in frozen.values():
        parameter.requires_grad_(False)
    from pegboard.model import Model

    if isinstance(model, Model):
        model.frozen_parameters = frozenset(model.frozen_parameters | set(frozen))
    summary = (
        f"{label}: {count:,} of {total:,} parameters frozen ({len(frozen)} "
        f"tensor{'s' if len(frozen) != 1 else ''}), "
        "left out of the optimizer"
        + ("; their BatchNorm and Dropout layers stay in eval mode" if roots else "")
    )
    return Frozen(sorted(frozen), roots, summary)


class KeepFrozen(pl.Callback):
    """Keep frozen modules in eval mode while the rest of the model trains.

    Lightning's loops put the whole model back in training mode after each validation;
    a model's own hooks may too. Before every training batch, a frozen module found in
    training mode is put back in eval mode (checking a handful of flags costs nothing).

    Args:
        modules: Names of the frozen modules in the LightningModule.
    """

    def __init__(self, modules: list[str]) -> None:
        self.names = list(modules)
        self._modules: list[nn.Module] = []

    def _to_eval(self) -> None:
        for module in self._modules:
            if module.training:
                module.eval()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Here, after Lightning's warning about modules in eval mode at the start.
        self._modules = [pl_module.get_submodule(name) for name in self.names]
        self._to_eval()

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._to_eval()


__all__ = ["Frozen", "KeepFrozen", "freeze", "model_parts"]
