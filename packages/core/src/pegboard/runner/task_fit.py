"""Does the model do the data's task? Checked from the configs, before a run folder exists.

A classifier given a regression dataset (``model=cnn data=diabetes``) would otherwise
fail inside the first batch, or earlier on an interpolation the data config cannot
answer (``${data.num_classes}``). The data config says its task (``task``, or
``num_classes`` for classes); the model class says the tasks it does (``Model.tasks``).
Both are read without building anything, so the check runs in the launcher's precheck.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pegboard.errors import ConfigError
from pegboard.supervision import (
    DESCRIBED_KEYS,
    REGRESSION,
    config_task,
    describe_inputs,
    target_from_config,
)


def described_values(cfg: Any, path: str = "data") -> dict[str, Any]:
    """The data node's describing keys that resolve (an unresolvable one counts as absent).

    Args:
        cfg: A composed config (``DictConfig``).
        path: The data node's key.
    """
    from omegaconf import OmegaConf

    values = {}
    for key in DESCRIBED_KEYS:
        try:
            value = OmegaConf.select(cfg, f"{path}.{key}", default=None, throw_on_missing=True)
        except Exception:  # an interpolation only the job can resolve
            continue
        if hasattr(value, "_content"):  # a ListConfig: plain values for messages
            value = OmegaConf.to_container(value, resolve=True)
        if value is not None:
            values[key] = value
    return values


def runtime_choices(cfg: Any = None) -> dict[str, Any]:
    """Hydra's choice per group (``model: cnn``): of ``cfg``'s ``hydra`` node or the job's.

    Args:
        cfg: A config composed with its ``hydra`` node, or ``None`` inside a job.
    """
    from omegaconf import OmegaConf

    if cfg is not None:
        choices = OmegaConf.select(cfg, "hydra.runtime.choices", default=None)
        return dict(choices) if choices is not None else {}
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return {}
    return dict(HydraConfig.get().runtime.choices)


def model_tasks(target: Any) -> tuple[str, ...]:
    """The tasks the class ``target`` names does; empty when it does not say or import.

    Args:
        target: A model node's ``_target_``, already held to the allow-list.
    """
    from hydra.utils import get_class

    if not isinstance(target, str) or not target:
        return ()
    try:
        cls = get_class(target)
    except Exception:  # reported by the node checks, with the import error
        return ()
    return tuple(getattr(cls, "tasks", ()) or ())


def _target_words(data: Mapping[str, Any], task: str) -> str:
    shape = data.get("input_shape")
    target = target_from_config(data)
    goal = (
        target.describe() if target is not None else ("values" if task == REGRESSION else "classes")
    )
    return f"{describe_inputs(shape if isinstance(shape, list | tuple) else None)} -> {goal}"


def _does(tasks: tuple[str, ...]) -> str:
    return " and ".join(tasks)


def check_task_fit(
    model_target: Any, data: Mapping[str, Any], choices: Mapping[str, Any] | None = None
) -> None:
    """Refuse a model whose class does not do the task the data config declares.

    Args:
        model_target: The model node's ``_target_``.
        data: The data node; values still ``None`` are described by the data later.
        choices: Hydra's runtime choices (``model``, ``data``), for the message.
    """
    task = config_task(data)
    tasks = model_tasks(model_target)
    if task is None or not tasks or task in tasks:
        return
    picked = dict(choices or {})
    model_name = str(model_target).rsplit(".", 1)[-1]
    model = f"model={picked['model']}" if picked.get("model") else f"model {model_name}"
    data_name = f"data={picked['data']}" if picked.get("data") else "the data"
    raise ConfigError(
        f"{model} ({model_name}) does {_does(tasks)}, but {data_name} is a {task} task "
        f"({_target_words(data, task)}): the model does not fit the data; choose a model "
        f"that does {task}, or data with {'classes' if task == REGRESSION else 'values'}"
    )


def check_model_fits_target(model: Any, target: Any, data_name: str) -> None:
    """Refuse a built model whose task or output count differs from the data's targets.

    Args:
        model: The built model (its ``task`` and ``output_size`` when it has them).
        target: The data's ``Classes`` or ``Values``, or ``None`` when unknown.
        data_name: The data, for the message.
    """
    task = getattr(model, "task", None)
    tasks = tuple(getattr(model, "tasks", ()) or ())
    if task is None and len(tasks) == 1:
        task = tasks[0]
    if target is None or not isinstance(task, str):
        return
    name = type(model).__name__
    if task != target.task:
        raise ConfigError(
            f"{name} was built for {task}, but {data_name} is a {target.task} task "
            f"({target.describe()}): the model does not fit the data"
        )
    outputs = getattr(model, "num_outputs", None)
    if task == REGRESSION and isinstance(outputs, int) and outputs != target.count:
        raise ConfigError(
            f"{name} predicts {outputs} value(s), but {data_name} has {target.describe()} "
            f"per sample: use a model built for num_outputs={target.count}"
        )


__all__ = [
    "check_model_fits_target",
    "check_task_fit",
    "described_values",
    "model_tasks",
    "runtime_choices",
]
