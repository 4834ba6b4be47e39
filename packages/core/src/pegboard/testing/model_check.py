"""The kit's model check: the whole model contract, with the runner's own functions.

What ``pegboard train``, ``predict`` and ``eval`` would refuse, this check refuses too,
because it calls the same code: the model checks before training
(``pegboard.runner.contract``), the monitored-metric guard, the rows ``pegboard predict``
writes (``pegboard.runner.predictions``) and a ``weights_only=True`` reload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pegboard.testing.building import build_node
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.trainer import quiet_trainer


@dataclass
class ModelCase:
    """A model option as the kit tests it.

    Args:
        model: The resolved model config, without ``_kit_`` and the fine-tuning keys.
        data: The resolved config of the kit's random images of that shape.
        input_shape: The shape of one input the model is tested on.
        num_classes: The number of classes.
        monitors: Config key to the metric each of the default callbacks monitors.
    """

    model: dict[str, Any]
    data: dict[str, Any]
    input_shape: list[int]
    num_classes: int
    monitors: dict[str, str] = field(default_factory=dict)


def _compose(
    plugin: str,
    option: str,
    tmp_path: Path,
    shape: Sequence[int],
    classes: int,
    more: Sequence[str],
    task: str = "classification",
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    from omegaconf import OmegaConf

    from pegboard.testing.checks import load_plugin

    manifest = load_plugin(plugin)
    assert manifest.configs is not None, f"{plugin} ships no configs"
    listed = "[" + ",".join(str(d) for d in shape) + "]"
    picked = (
        ["data=kit_values"]
        if task == "regression"
        else ["data=kit_images", f"data.num_classes={classes}"]
    )
    with compose_config(
        [f"model={option}", *picked, f"data.input_shape={listed}", *more],
        list(dict.fromkeys([manifest.configs, KIT_CONFIGS])),
        tmp_path,
    ) as cfg:
        model = OmegaConf.to_container(cfg.model, resolve=True)
        data = OmegaConf.to_container(cfg.data, resolve=True)
        monitors = {}
        for name in cfg.get("callbacks") or {}:
            metric = OmegaConf.select(cfg, f"callbacks.{name}.monitor", default=None)
            if isinstance(metric, str) and metric:
                monitors[f"callbacks.{name}"] = metric
    assert isinstance(model, dict) and isinstance(data, dict)
    return {str(k): v for k, v in model.items()}, {str(k): v for k, v in data.items()}, monitors


def model_case(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int] = (1, 8, 8),
    num_classes: int = 10,
    overrides: Sequence[str] = (),
    task: str = "classification",
) -> ModelCase:
    """Compose ``model=<option>`` on the kit's random data, in the shape it declares.

    Classification composes it on random images of classes; regression on random
    values (``data=kit_values``) of the same input shape.

    A model config's ``_kit_`` (``{input_shape: [1, 28, 28], num_classes: 10}``) wins over
    ``input_shape`` and ``num_classes``, which apply when it declares none.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option.
        tmp_path: A scratch folder.
        input_shape: Image shape when the config declares none.
        num_classes: Number of classes when the config declares none.
        overrides: Extra Hydra overrides.
        task: ``classification`` or ``regression``.
    """
    from pegboard.runner.contract import split_kit
    from pegboard.runner.finetune import split_finetune

    shape, classes = [int(d) for d in input_shape], int(num_classes)
    model, data, monitors = _compose(plugin, option, tmp_path, shape, classes, overrides, task)
    model, kit = _kit_of(model, option)
    wanted = kit.get("input_shape", shape), kit.get("num_classes", classes)
    if wanted != (shape, classes):
        shape, classes = wanted
        model, data, monitors = _compose(plugin, option, tmp_path, shape, classes, overrides, task)
        model = split_kit(model)[0]
    # The fine-tuning keys (init_from, freeze) are the runner's, never the class's: the
    # kit checks the model from its fresh initialization.
    return ModelCase(split_finetune(model)[0], data, shape, classes, monitors)


def _kit_of(model: dict[str, Any], option: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from pegboard.errors import ConfigError
    from pegboard.runner.contract import split_kit

    try:
        return split_kit(model, f"model={option}: model")
    except ConfigError as error:
        raise AssertionError(str(error)) from error


def model_configs(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int] = (1, 8, 8),
    num_classes: int = 10,
    overrides: Sequence[str] = (),
) -> tuple[Any, Any]:
    """The resolved model and data configs of ``model=<option>`` on the kit's random images.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option.
        tmp_path: A scratch folder.
        input_shape: Image shape when the config declares no ``_kit_`` shape.
        num_classes: Number of classes when the config declares none.
        overrides: Extra Hydra overrides.
    """
    case = model_case(plugin, option, tmp_path, input_shape, num_classes, overrides)
    return case.model, case.data


def _refused(label: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(...)``, a pegboard ``ConfigError`` turned into the kit's ``AssertionError``."""
    from pegboard.errors import ConfigError

    try:
        return call(*args, **kwargs)
    except ConfigError as error:
        message = str(error)
        prefix = "" if message.startswith(label) else f"{label}: "
        raise AssertionError(prefix + message) from error


def check_model(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int] = (1, 8, 8),
    num_classes: int = 10,
    overrides: Sequence[str] = (),
    task: str | None = None,
) -> None:
    """Check one model config against the whole model contract (docs/model-contract.md).

    The model is built and checked as ``pegboard train`` checks it (a
    ``pytorch_lightning.LightningModule`` whose hyperparameters reload), trained for one
    ``fast_dev_run`` step on random images of its ``_kit_`` shape (or ``input_shape``)
    with the monitored metrics of the default callbacks checked, asked to predict, its
    outputs turned into the rows ``pegboard predict`` writes, then saved and reloaded
    with ``Class.load_from_checkpoint(path, weights_only=True)``, which must give
    identical outputs with no config at all.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option (``model=<option>``).
        tmp_path: A scratch folder.
        input_shape: Image shape when the config declares no ``_kit_`` shape.
        num_classes: Number of classes when the config declares none.
        overrides: Extra Hydra overrides.
        task: The task to check it on; ``None``: each task its class does (``tasks``),
            classification for a class that does not say.
    """
    from pegboard.runner.task_fit import model_tasks

    if task is not None:
        _check_model_on(plugin, option, tmp_path, input_shape, num_classes, overrides, task)
        return
    for each in model_tasks(target_of(plugin, option, tmp_path)) or ("classification",):
        where = tmp_path / each
        where.mkdir(parents=True, exist_ok=True)
        _check_model_on(plugin, option, where, input_shape, num_classes, overrides, each)


def target_of(plugin: str, option: str, tmp_path: Path) -> Any:
    """The ``_target_`` of ``model=<option>``, read without resolving the rest."""
    from omegaconf import OmegaConf

    from pegboard.testing.checks import load_plugin

    configs = load_plugin(plugin).configs
    assert configs is not None, f"{plugin} ships no configs"
    packages = list(dict.fromkeys([configs, KIT_CONFIGS]))
    with compose_config([f"model={option}", "data=kit_images"], packages, tmp_path) as cfg:
        return OmegaConf.select(cfg, "model._target_", default=None)


def first_task(plugin: str, option: str, tmp_path: Path) -> str:
    """The task ``model=<option>`` is checked on first: classification, unless it cannot.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option.
        tmp_path: A scratch folder.
    """
    from pegboard.runner.task_fit import model_tasks

    tasks = model_tasks(target_of(plugin, option, tmp_path))
    return tasks[0] if tasks and "classification" not in tasks else "classification"


def _check_model_on(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int],
    num_classes: int,
    overrides: Sequence[str],
    task: str,
) -> None:
    import math

    import torch

    from pegboard.runner import contract
    from pegboard.runner.monitors import MonitorGuard
    from pegboard.runner.predictions import class_names_from, prediction_rows, run_predict

    label = f"model={option}" + (f" ({task})" if task != "classification" else "")
    case = model_case(plugin, option, tmp_path, input_shape, num_classes, overrides, task)
    model = build_node(case.model, plugin)
    _refused(label, contract.check_model, model, label)
    datamodule = build_node(case.data, plugin)

    guard = MonitorGuard(monitors=case.monitors)
    trainer = quiet_trainer(tmp_path, fast_dev_run=1, callbacks=[guard])
    _refused(label, trainer.fit, model, datamodule=datamodule)
    losses = [value for name, value in trainer.callback_metrics.items() if "loss" in name]
    assert losses and all(math.isfinite(float(v)) for v in losses), (
        f"{label}: no finite loss after one step ({dict(trainer.callback_metrics)})"
    )
    batches = run_predict(trainer, model, datamodule=datamodule)
    names = class_names_from([lambda: datamodule.class_names])
    rows = _refused(label, prediction_rows, batches, names, model=type(model).__name__)
    assert rows, f"{label}: predict returned nothing"

    checkpoint = tmp_path / f"{option.replace('/', '_')}.ckpt"
    trainer.save_checkpoint(checkpoint)
    try:
        restored = type(model).load_from_checkpoint(
            checkpoint, map_location="cpu", weights_only=True
        )
    except Exception as error:
        raise AssertionError(
            f"{label}: {type(model).__name__}.load_from_checkpoint(path, weights_only=True) "
            f"fails: {type(error).__name__}: {error}"
        ) from error
    inputs = next(iter(datamodule.test_dataloader()))[0]
    model.eval()
    restored.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), restored(inputs)), (
            f"{label}: the reloaded checkpoint gives different outputs"
        )


__all__ = [
    "ModelCase",
    "build_node",
    "check_model",
    "first_task",
    "model_case",
    "model_configs",
    "target_of",
]
