"""Does the model take the data? One forward pass on the data's input shape, before a run.

A model built for 28x28 greyscale images given 32x32 colour ones (``eval data=...`` on
other data, or a size set by hand) fails deep inside the first batch with a shape error
from some layer. pegboard checks before training or testing starts, and names both
shapes; a dataset with more classes than the model has outputs, or of another task
(values for a classifier), is named the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from pegboard.errors import ConfigError
from pegboard.runner.task_fit import check_model_fits_target
from pegboard.supervision import target_from_config, target_of


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_fits(model: Any, data_config: Mapping[str, Any], datamodule: Any = None) -> None:
    """Refuse a ``pegboard.Model`` that cannot take the data's inputs or classes.

    Args:
        model: The built model (other LightningModules, whose inputs pegboard cannot
            know, are left to Lightning).
        data_config: The data node (``input_shape``, ``num_classes``, ``_target_``).
        datamodule: The built datamodule, asked for ``input_shape`` when the config has
            none.
    """
    from pegboard.model import Model

    if not isinstance(model, Model):
        return
    shape = data_config.get("input_shape") or getattr(datamodule, "input_shape", None)
    hparams = getattr(model, "hparams", {}) or {}
    data_name = data_config.get("_target_", "the data")
    classes, outputs = data_config.get("num_classes"), hparams.get("num_classes")
    if isinstance(classes, int) and isinstance(outputs, int) and classes > outputs:
        raise ConfigError(
            f"{data_name} has {classes} classes, but {type(model).__name__} was built for "
            f"{outputs}: labels would fall outside its outputs. Use data with at most "
            f"{outputs} classes, or a model built for {classes}"
        )
    # A target known only after setup (class names read from files): the config says.
    target = target_of(datamodule) or target_from_config(data_config)
    check_model_fits_target(model, target, str(data_name))
    if not shape:
        return
    built = hparams.get("input_shape")
    made_for = f" (it was built for input_shape {list(built)})" if built else ""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(2, *(int(d) for d in shape)))
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        raise ConfigError(
            f"{type(model).__name__} cannot take the inputs of {data_name}, which are "
            f"{list(shape)}{made_for}: {_first_line(error)}"
        ) from error
    finally:
        model.train(was_training)


__all__ = ["check_fits"]
