"""The checks of the conformance kit (see ``pegboard.testing``).

The model check lives in ``pegboard.testing.model_check``; it is importable from here too.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pegboard.plugin import (
    SUPPORTED_API_VERSIONS,
    Plugin,
    load_object,
)
from pegboard.plugin import (
    config_options as _package_options,
)
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.model_check import build_node, check_model, model_configs
from pegboard.testing.shipping import check_configs_shipped

HEAVY_MODULES = ("torch", "pytorch_lightning", "lightning")


def load_plugin(plugin: str | Plugin) -> Plugin:
    """Return the manifest itself, given the manifest or its ``"module:attr"`` path.

    Args:
        plugin: A ``Plugin`` or the entry-point value that names it.
    """
    manifest = load_object(plugin) if isinstance(plugin, str) else plugin
    assert isinstance(manifest, Plugin), (
        f"{plugin!r} is a {type(manifest).__name__}, not a pegboard.plugin.Plugin"
    )
    return manifest


def config_options(plugin: str | Plugin, group: str) -> list[str]:
    """The options a pack ships in one config group (empty when it has none).

    Args:
        plugin: The pack's manifest or its ``"module:attr"`` path.
        group: A config group such as ``"model"`` or ``"data"``.
    """
    manifest = load_plugin(plugin)
    if manifest.configs is None:
        return []
    return _package_options(manifest.configs).get(group, [])


def _imported_by(module: str) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, f"importing {module} failed:\n{result.stderr}"
    return [name for name in result.stdout.strip().split(",") if name]


def check_manifest(plugin: str) -> None:
    """Check the manifest: its type, API version, config package and advertised classes.

    Also checks, in a fresh interpreter, that importing the manifest's module imports
    neither torch nor Lightning: every ``pegboard`` start reads every manifest.

    Args:
        plugin: The entry-point value of the manifest, ``"module:attr"``.
    """
    import pegboard

    manifest = load_plugin(plugin)
    assert manifest.api in SUPPORTED_API_VERSIONS, (
        f"{plugin} declares plugin API {manifest.api}; this pegboard-core supports "
        f"{sorted(SUPPORTED_API_VERSIONS)}"
    )
    module = plugin.partition(":")[0]
    heavy = _imported_by(module)
    assert not heavy, f"importing {module} imports {', '.join(heavy)}; import them lazily"
    if manifest.configs is not None:
        groups = _package_options(manifest.configs)
        assert groups, f"config package {manifest.configs} holds no config group folder"
        check_configs_shipped(manifest.configs)
    import pytorch_lightning as pl

    from pegboard.runner.contract import lightning_package_problem

    # Any LightningModule trains (docs/model-contract.md); pegboard.Model is the richer base.
    bases = {"models": (pegboard.Model, pl.LightningModule), "datamodules": (pegboard.DataModule,)}
    for kind, accepted in bases.items():
        for name, target in getattr(manifest, kind).items():
            obj = load_object(target)
            problem = kind == "models" and lightning_package_problem(obj, f"{kind}[{name!r}]")
            assert not problem, problem
            assert isinstance(obj, type) and issubclass(obj, accepted), (
                f"{kind}[{name!r}] = {target} is not a subclass of "
                + " or ".join(f"{base.__module__}.{base.__name__}" for base in accepted)
            )


def check_configs_compose(plugin: str, tmp_path: Path, overrides: Sequence[str] = ()) -> None:
    """Check that every option of every group the pack ships composes with the base configs.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        tmp_path: A scratch folder.
        overrides: Extra overrides, such as a data option for model configs.
    """
    from omegaconf import OmegaConf

    manifest = load_plugin(plugin)
    if manifest.configs is None:
        return
    packages = list(dict.fromkeys([manifest.configs, KIT_CONFIGS]))
    for group, options in _package_options(manifest.configs).items():
        for option in options:
            # The kit's stand-ins fill the groups the pack does not provide here.
            chosen = {"model": "model=kit_linear", "data": "data=kit_images"}
            chosen[group] = f"{group}={option}" if group in chosen else f"+{group}={option}"
            if group == "data" and _data_task(option, packages, tmp_path) == "regression":
                chosen["model"] = "model=kit_regressor"
            if group == "model" and _values_only(plugin, option, tmp_path):
                chosen["data"] = "data=kit_values"
            try:
                with compose_config([*chosen.values(), *overrides], packages, tmp_path) as cfg:
                    OmegaConf.to_container(cfg, resolve=True)
            except Exception as error:
                raise AssertionError(f"{group}={option} does not compose: {error}") from error


def _values_only(plugin: str, option: str, tmp_path: Path) -> bool:
    """Whether ``model=<option>``'s class does regression and not classification."""
    from pegboard.testing.model_check import first_task

    return first_task(plugin, option, tmp_path) == "regression"


def _data_task(option: str, packages: Sequence[str], tmp_path: Path) -> str | None:
    """The task ``data=<option>`` declares (``None``: described by the data at run time)."""
    from pegboard.runner.task_fit import described_values
    from pegboard.supervision import config_task

    with compose_config(["model=kit_linear", f"data={option}"], packages, tmp_path) as cfg:
        return config_task(described_values(cfg, "data"))


def check_datamodule(
    plugin: str, option: str, tmp_path: Path, overrides: Sequence[str] = ()
) -> None:
    """Check one data config: batches of every split match the shape and targets it declares.

    Classes are integers in ``[0, num_classes)``; values are floats ``(batch, count)``.
    The saved state must load as every checkpoint does, with ``weights_only=True``.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The data option (``data=<option>``).
        tmp_path: A scratch folder (also used as ``paths.data_dir``).
        overrides: Extra Hydra overrides (for example ``data.data_dir=...``).
    """
    from omegaconf import OmegaConf

    import pegboard

    manifest = load_plugin(plugin)
    assert manifest.configs is not None, f"{plugin} ships no configs"
    with compose_config(
        # The model is not built; the kit's stand-in only completes the config.
        ["model=kit_linear", f"data={option}", f"paths.data_dir={tmp_path / 'data'}", *overrides],
        list(dict.fromkeys([manifest.configs, KIT_CONFIGS])),
        tmp_path,
    ) as cfg:
        data_cfg = OmegaConf.to_container(cfg.data, resolve=True)
    assert isinstance(data_cfg, dict)
    datamodule = build_node(data_cfg, plugin)
    assert isinstance(datamodule, pegboard.DataModule), (
        f"data={option} builds a {type(datamodule).__name__}"
    )
    datamodule.prepare_data()
    datamodule.setup("fit")
    datamodule.setup("test")
    declared_shape = tuple(data_cfg.get("input_shape") or datamodule.input_shape)
    assert tuple(datamodule.input_shape) == declared_shape, (
        f"data={option} declares input_shape {list(declared_shape)} "
        f"but reports {list(datamodule.input_shape)}"
    )
    target = _declared_target(option, {str(k): v for k, v in data_cfg.items()}, datamodule)
    for split, loader in (
        ("train", datamodule.train_dataloader()),
        ("val", datamodule.val_dataloader()),
        ("test", datamodule.test_dataloader()),
    ):
        inputs, targets = next(iter(loader))
        assert tuple(inputs.shape[1:]) == declared_shape, (
            f"data={option} {split} inputs are {list(inputs.shape[1:])}, "
            f"declared {list(declared_shape)}"
        )
        assert inputs.is_floating_point(), f"data={option} {split} inputs are not float"
        assert len(targets) == len(inputs)
        _check_targets(f"data={option} {split}", targets, target)
    _check_state_reloads(option, datamodule)


def _declared_target(option: str, data_cfg: dict[str, Any], datamodule: Any) -> Any:
    """The datamodule's ``target``, checked against what its config declares."""
    from pegboard.supervision import Classes, Values, config_task

    target = datamodule.target
    assert isinstance(target, Classes | Values), (
        f"data={option}: target is a {type(target).__name__}, not pegboard.Classes or Values"
    )
    declared = config_task(data_cfg)
    assert declared in (None, target.task), (
        f"data={option} declares task {declared} but its targets are {target.describe()}"
    )
    if isinstance(target, Classes):
        classes = data_cfg.get("num_classes")
        assert classes in (None, target.count), (
            f"data={option} declares num_classes={classes} but has {target.describe()}"
        )
        assert datamodule.num_classes == target.count
        assert len(datamodule.class_names) == target.count, "one class name per class"
    else:
        outputs = data_cfg.get("num_outputs")
        assert outputs in (None, target.count), (
            f"data={option} declares num_outputs={outputs} but has {target.describe()}"
        )
    return target


def _check_targets(label: str, targets: Any, target: Any) -> None:
    from pegboard.supervision import Classes

    if isinstance(target, Classes):
        assert not targets.is_floating_point(), f"{label} class targets are not integers"
        assert int(targets.min()) >= 0 and int(targets.max()) < target.count, (
            f"{label} targets fall outside [0, {target.count})"
        )
        return
    assert targets.is_floating_point(), f"{label} value targets are not floats"
    shape = tuple(targets.shape[1:])
    assert shape in ((target.count,), () if target.count == 1 else (target.count,)), (
        f"{label} targets have shape {list(targets.shape)}; expected (batch, {target.count})"
    )


def _check_state_reloads(option: str, datamodule: Any) -> None:
    """``state_dict`` is plain data: it survives ``torch.load(weights_only=True)``."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(datamodule.state_dict(), buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, weights_only=True)
    except Exception as error:
        raise AssertionError(
            f"data={option}: state_dict() does not load with weights_only=True, as every "
            f"checkpoint is loaded: {type(error).__name__}: {error}"
        ) from error


__all__ = [
    "HEAVY_MODULES",
    "build_node",
    "check_configs_compose",
    "check_datamodule",
    "check_manifest",
    "check_model",
    "config_options",
    "load_plugin",
    "model_configs",
]
