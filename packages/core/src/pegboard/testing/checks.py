"""The checks of the conformance kit (see ``pegboard.testing``)."""

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
from pegboard.testing.shipping import check_configs_shipped
from pegboard.testing.trainer import quiet_trainer

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
    for kind, base in (("models", pegboard.Model), ("datamodules", pegboard.DataModule)):
        for name, target in getattr(manifest, kind).items():
            obj = load_object(target)
            assert isinstance(obj, type) and issubclass(obj, base), (
                f"{kind}[{name!r}] = {target} is not a subclass of "
                f"{base.__module__}.{base.__name__}"
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
            try:
                with compose_config([*chosen.values(), *overrides], packages, tmp_path) as cfg:
                    OmegaConf.to_container(cfg, resolve=True)
            except Exception as error:
                raise AssertionError(f"{group}={option} does not compose: {error}") from error


def _build(node: Any, plugin: str) -> Any:
    from hydra.utils import instantiate

    from pegboard.targets import check_targets

    # The kit builds like the runner: targets outside the allow-list are refused first.
    # The pack under test is allowed even when it is not installed through an entry point.
    check_targets(node, "", load_plugin(plugin).targets)
    return instantiate(node, _convert_="all")


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
        input_shape: Image shape the model is built for.
        num_classes: Number of classes.
        overrides: Extra Hydra overrides.
    """
    from omegaconf import OmegaConf

    manifest = load_plugin(plugin)
    assert manifest.configs is not None, f"{plugin} ships no configs"
    shape = "[" + ",".join(str(d) for d in input_shape) + "]"
    with compose_config(
        [
            f"model={option}",
            "data=kit_images",
            f"data.input_shape={shape}",
            f"data.num_classes={num_classes}",
            *overrides,
        ],
        list(dict.fromkeys([manifest.configs, KIT_CONFIGS])),
        tmp_path,
    ) as cfg:
        return (
            OmegaConf.to_container(cfg.model, resolve=True),
            OmegaConf.to_container(cfg.data, resolve=True),
        )


def check_model(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int] = (1, 8, 8),
    num_classes: int = 10,
    overrides: Sequence[str] = (),
) -> None:
    """Check one model config: it builds a ``pegboard.Model``, trains, predicts and reloads.

    The model is trained for one ``fast_dev_run`` step on random images of
    ``input_shape`` (the model config takes shape and classes from the data config by
    interpolation), then saved and reloaded with ``Class.load_from_checkpoint(path)``,
    which must give identical outputs with no config at all.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option (``model=<option>``).
        tmp_path: A scratch folder.
        input_shape: Image shape the model is built for.
        num_classes: Number of classes.
        overrides: Extra Hydra overrides.
    """
    import math

    import torch

    import pegboard
    from pegboard.testing.export_check import check_hparams

    model_cfg, data_cfg = model_configs(
        plugin, option, tmp_path, input_shape, num_classes, overrides
    )
    model = _build(model_cfg, plugin)
    assert isinstance(model, pegboard.Model), f"model={option} builds a {type(model).__name__}"
    # Checkpoints load with weights_only=True, which only unpickles plain values.
    check_hparams(model, f"model={option}")
    datamodule = _build(data_cfg, plugin)

    trainer = quiet_trainer(tmp_path, fast_dev_run=1)
    trainer.fit(model, datamodule=datamodule)
    losses = [value for name, value in trainer.callback_metrics.items() if name.endswith("loss")]
    assert losses and all(math.isfinite(float(v)) for v in losses), (
        f"model={option}: no finite loss after one step ({dict(trainer.callback_metrics)})"
    )
    predictions = trainer.predict(model, datamodule=datamodule)
    assert predictions, f"model={option}: predict returned nothing"

    checkpoint = tmp_path / f"{option.replace('/', '_')}.ckpt"
    trainer.save_checkpoint(checkpoint)
    restored = type(model).load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True)
    inputs = next(iter(datamodule.test_dataloader()))[0]
    model.eval()
    restored.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), restored(inputs)), (
            f"model={option}: the reloaded checkpoint gives different outputs"
        )


def check_datamodule(
    plugin: str, option: str, tmp_path: Path, overrides: Sequence[str] = ()
) -> None:
    """Check one data config: batches of every split match the shape and classes it declares.

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
    datamodule = _build(data_cfg, plugin)
    assert isinstance(datamodule, pegboard.DataModule), (
        f"data={option} builds a {type(datamodule).__name__}"
    )
    declared_shape = tuple(data_cfg["input_shape"])
    declared_classes = data_cfg["num_classes"]
    datamodule.prepare_data()
    datamodule.setup("fit")
    datamodule.setup("test")
    assert tuple(datamodule.input_shape) == declared_shape, (
        f"data={option} declares input_shape {list(declared_shape)} "
        f"but reports {list(datamodule.input_shape)}"
    )
    assert datamodule.num_classes == declared_classes
    assert len(datamodule.class_names) == declared_classes, "one class name per class"
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
        assert int(targets.min()) >= 0 and int(targets.max()) < declared_classes, (
            f"data={option} {split} targets fall outside [0, {declared_classes})"
        )
