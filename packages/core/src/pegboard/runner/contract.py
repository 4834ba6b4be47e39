"""The model contract checks that run before training: what a config builds, what it saves.

pegboard trains any ``pytorch_lightning.LightningModule`` (docs/model-contract.md). What
can be known about a built model before the first step is checked here, once, by the
runner and by the conformance kit alike:

* it is a ``pytorch_lightning`` LightningModule (a ``lightning.pytorch`` one is named, with
  the import to change);
* its saved hyperparameters are plain values, which a checkpoint reloads with
  ``torch.load(weights_only=True)``: every offending argument is named with the fix.

A model config may also declare, under the reserved key ``_kit_``, the inputs the
conformance kit tests it on; ``split_kit`` removes it before anything else reads the node.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

from pegboard.errors import ConfigError

#: Reserved key of a model config: the input shape and classes the kit tests it on.
KIT_KEY = "_kit_"
#: What ``_kit_`` may declare.
KIT_FIELDS = ("input_shape", "num_classes")
#: What ``torch.load(weights_only=True)`` reloads, besides lists, tuples and dicts of them.
PLAIN_TYPES = (str, int, float, bool, type(None))
_PLAIN_NAMES = "str, int, float, bool, None, and lists and dicts of them"


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def split_kit(
    node: Mapping[str, Any], path: str = "model"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate a model node's ``_kit_`` declaration from what is built.

    Args:
        node: A resolved model config node.
        path: The node's key, for messages.

    Returns:
        The node without ``_kit_``, and the declaration (``input_shape`` as a list of
        ints and ``num_classes``, each only when declared).

    Raises:
        ConfigError: ``_kit_`` holds another key or a value of the wrong kind.
    """
    built = {str(key): value for key, value in node.items() if key != KIT_KEY}
    declared = node.get(KIT_KEY)
    if declared is None:
        return built, {}
    where = f"{path}.{KIT_KEY}"
    if not isinstance(declared, Mapping):
        raise ConfigError(
            f"{where}={declared!r} must be a mapping such as {{input_shape: [1, 28, 28], "
            "num_classes: 10}"
        )
    for key in declared:
        if key not in KIT_FIELDS:
            close = difflib.get_close_matches(str(key), KIT_FIELDS, n=1)
            hint = f" Did you mean {where}.{close[0]}?" if close else ""
            raise ConfigError(
                f"{where}.{key} is not a kit setting; {where} takes {' and '.join(KIT_FIELDS)}."
                f"{hint}"
            )
    kit: dict[str, Any] = {}
    shape = declared.get("input_shape")
    if shape is not None:
        if not isinstance(shape, list | tuple) or not shape or not all(map(_positive_int, shape)):
            raise ConfigError(
                f"{where}.input_shape={shape!r} must be a list of positive whole numbers, "
                "the shape of one input such as [1, 28, 28]"
            )
        kit["input_shape"] = [int(d) for d in shape]
    classes = declared.get("num_classes")
    if classes is not None:
        if not _positive_int(classes) or classes < 2:
            raise ConfigError(
                f"{where}.num_classes={classes!r} must be a whole number of 2 or more"
            )
        kit["num_classes"] = int(classes)
    return built, kit


def _qualified(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


def _type_name(value: Any) -> str:
    import torch

    if isinstance(value, functools.partial):  # what a config's `_partial_: true` builds
        return f"partial of {_qualified(value.func)}"
    if isinstance(value, type):
        return f"class ({_qualified(value)})"
    name = _qualified(type(value))
    if isinstance(value, torch.nn.Module):
        return f"{name} (an nn.Module)"
    if callable(value):
        return f"{name} (a callable)"
    return name


def _impure(value: Any, key: str) -> tuple[str, str] | None:
    """The first value under ``key`` that is not plain, as (where, its type), or None."""
    if isinstance(value, PLAIN_TYPES):
        return None
    if isinstance(value, list | tuple):
        for position, item in enumerate(value):
            found = _impure(item, f"{key}[{position}]")
            if found:
                return found
        return None
    if type(value) is dict:
        for name, item in value.items():
            if not isinstance(name, str):
                return f"{key}.{name!r}", "non-string key"
            found = _impure(item, f"{key}.{name}")
            if found:
                return found
        return None
    return key, _type_name(value)


def impure_hparams(hparams: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every hyperparameter that ``torch.load(weights_only=True)`` would refuse.

    Args:
        hparams: A model's ``hparams`` (or any mapping of them).

    Returns:
        One ``(argument, where, type)`` per offending argument, in order: ``where`` is
        the offending value's place inside it (``layers[1]``), ``type`` what it is.
    """
    found = []
    for name, value in dict(hparams).items():
        bad = _impure(value, str(name))
        if bad is not None:
            found.append((str(name), *bad))
    return found


def hparams_problem(model: Any, label: str = "model") -> str | None:
    """The one-line message naming every hyperparameter that will not reload, or None.

    Args:
        model: A LightningModule (its ``hparams``) or a mapping of hyperparameters.
        label: How to name the model in the message.
    """
    hparams = model if isinstance(model, Mapping) else getattr(model, "hparams", {})
    found = impure_hparams(hparams)
    if not found:
        return None
    listed = "; ".join(f"hyper-parameter {where} is a {kind}" for _, where, kind in found)
    names = ", ".join(repr(name) for name, _, _ in found)
    return (
        f"{label}: {listed}. Checkpoints load with torch.load(weights_only=True), which "
        f"reloads only plain values ({_PLAIN_NAMES}): pass plain values (sizes, rates) and "
        "build the objects inside __init__, or list the arguments in "
        f"save_hyperparameters(ignore=[{names}]) and give each a default "
        "(docs/model-contract.md)"
    )


def check_hparams(model: Any, label: str = "model") -> None:
    """Refuse hyperparameters that a checkpoint of the model could not reload.

    Args:
        model: A LightningModule (its ``hparams``) or a mapping of hyperparameters.
        label: How to name the model in the message.

    Raises:
        ConfigError: Naming every offending argument, its type and the fix.
    """
    problem = hparams_problem(model, label)
    if problem:
        raise ConfigError(problem)


def _from_lightning_package(cls: type) -> type | None:
    for base in cls.__mro__:
        module = getattr(base, "__module__", "") or ""
        if module == "lightning" or module.startswith("lightning."):
            return base
    return None


def lightning_package_problem(cls: Any, label: str = "model") -> str | None:
    """The one-line fix for a LightningModule of the unified ``lightning`` package, or None.

    ``lightning.pytorch.LightningModule`` and ``pytorch_lightning.LightningModule`` are
    two distinct classes with the same code: a Trainer of one refuses the other's modules.

    Args:
        cls: A model class.
        label: How to name it in the message.
    """
    if not isinstance(cls, type) or _from_lightning_package(cls) is None:
        return None
    return (
        f"{label} builds {cls.__module__}.{cls.__qualname__}, a LightningModule of the "
        "`lightning` package: pegboard trains with `pytorch_lightning`; in "
        f"{cls.__module__} change `import lightning as L` / `from lightning.pytorch import "
        "...` to `import pytorch_lightning as pl` (L.LightningModule -> pl.LightningModule)"
    )


def class_problem(cls: Any, label: str = "model") -> str | None:
    """Why ``cls`` cannot be trained by pegboard, in one line, or None when it can.

    Args:
        cls: The class a model config builds.
        label: How to name it in the message.
    """
    import pytorch_lightning as pl

    if isinstance(cls, type) and issubclass(cls, pl.LightningModule):
        return None
    short = getattr(cls, "__qualname__", cls)
    name = f"{getattr(cls, '__module__', '?')}.{short}"
    return lightning_package_problem(cls, label) or (
        f"{label} builds a {short} ({name}), not a pytorch_lightning.LightningModule: a model "
        "config must build one (pegboard.Model is the recommended base, docs/model-contract.md)"
    )


def check_model(model: Any, label: str = "model") -> None:
    """The checks of a built model before training: its class, then its hyperparameters.

    Args:
        model: What the model config built.
        label: How to name it in messages (``model (my_net.Net)``).

    Raises:
        ConfigError: Not a ``pytorch_lightning.LightningModule``, or hyperparameters
            that will not reload from a checkpoint.
    """
    problem = class_problem(type(model), label)
    if problem:
        raise ConfigError(problem)
    check_hparams(model, label)


__all__ = [
    "KIT_KEY",
    "check_hparams",
    "check_model",
    "class_problem",
    "hparams_problem",
    "impure_hparams",
    "lightning_package_problem",
    "split_kit",
]
