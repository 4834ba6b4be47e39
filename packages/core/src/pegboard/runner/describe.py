"""Data config values left ``null`` are described by the data itself, before the model is built.

A CSV's number of feature columns, its task and its classes are known only once the
file is read; a model config takes them by interpolation (``${data.input_shape}``). So a
data config may leave ``input_shape``, ``task``, ``num_classes`` and ``num_outputs``
``null``: the runner builds the datamodule, asks it (``input_shape`` and ``target``) and
writes the answers into the config, which the run directory and the checkpoint record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pegboard.errors import ConfigError
from pegboard.supervision import DESCRIBED_KEYS, Classes, Values


def undescribed(data: Mapping[str, Any]) -> list[str]:
    """The describing keys the data node has, left ``null``.

    Args:
        data: A (resolved) data node.
    """
    return [key for key in DESCRIBED_KEYS if key in data and data[key] is None]


def data_description(datamodule: Any) -> dict[str, Any]:
    """What a built datamodule says of its data, under the data config's keys.

    Args:
        datamodule: A built ``pegboard.DataModule`` (or any object with ``input_shape``
            and ``target``).
    """
    name = type(datamodule).__name__
    try:
        shape = [int(d) for d in datamodule.input_shape]
        target = datamodule.target
    except (AttributeError, NotImplementedError) as error:
        raise ConfigError(
            f"{name} cannot describe its data ({error}); give data.input_shape and "
            "data.num_classes (or data.task=regression and data.num_outputs) in the config"
        ) from error
    return {
        "input_shape": shape,
        "task": target.task,
        "num_classes": target.count if isinstance(target, Classes) else None,
        "num_outputs": target.count if isinstance(target, Values) else None,
    }


def fill_described(cfg: Any, datamodule: Any) -> dict[str, Any]:
    """Write what the datamodule says into ``cfg.data``'s keys left ``null``.

    Args:
        cfg: The job's composed config (a ``DictConfig``; changed in place).
        datamodule: The datamodule built from ``cfg.data``.

    Returns:
        The values written, by key (empty when the config described everything).
    """
    from omegaconf import open_dict

    missing = undescribed(cfg.data)
    if not missing:
        return {}
    described = data_description(datamodule)
    written = {key: described[key] for key in missing if described[key] is not None}
    with open_dict(cfg):
        for key, value in written.items():
            cfg.data[key] = value
    return written


__all__ = ["data_description", "fill_described", "undescribed"]
