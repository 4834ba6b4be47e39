"""Kit checks of what a model leaves behind: plain hyper-parameters and working exports."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: A model class sets this to a reason to be reported "skipped" by the export check.
EXPORT_UNSUPPORTED = "export_unsupported"

_PLAIN = (str, int, float, bool, type(None))


class CheckSkipped(Exception):
    """A check that does not apply, with the reason (the pytest suite turns it into a skip).

    Args:
        reason: Why the check does not apply.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _impure(value: Any, key: str) -> tuple[str, str] | None:
    if isinstance(value, _PLAIN):
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
    return key, type(value).__module__ + "." + type(value).__qualname__


def check_hparams(model: Any, label: str = "model") -> None:
    """Assert that a model's saved hyper-parameters are plain values.

    ``torch.load(weights_only=True)`` refuses to unpickle anything else (configs,
    tensors aside, classes, functions), so a checkpoint with such hyper-parameters cannot
    be loaded safely. Store primitives and build objects inside the constructor.

    Args:
        model: A LightningModule (its ``hparams``) or a mapping of hyper-parameters.
        label: How to name the model in the message.
    """
    hparams = model if isinstance(model, Mapping) else getattr(model, "hparams", {})
    for name, value in dict(hparams).items():
        found = _impure(value, str(name))
        assert found is None, (
            f"{label}: hyper-parameter {found[0]} is a {found[1]}; checkpoints load with "
            "torch.load(weights_only=True), which needs plain values (str, int, float, bool, "
            "None, lists and dicts of them). Pass plain values to the constructor, or leave "
            "the argument out of save_hyperparameters(ignore=[...])"
        )


def _onnx_missing() -> str | None:
    needed = ("onnx", "onnxruntime", "onnxscript")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    return ", ".join(missing) if missing else None


def check_export(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int] = (1, 8, 8),
    num_classes: int = 10,
    overrides: Sequence[str] = (),
) -> list[str]:
    """Check that ``model=<option>`` exports to TorchScript (and ONNX) with the same outputs.

    A model class that cannot be exported says why in a class attribute,
    ``export_unsupported = "reason"``; the check is then skipped with that reason.
    ONNX is checked when onnx, onnxruntime and onnxscript are installed.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option.
        tmp_path: A scratch folder.
        input_shape: Image shape the model is built for.
        num_classes: Number of classes.
        overrides: Extra Hydra overrides.

    Returns:
        The formats exported and verified (``["torchscript", "onnx"]``).

    Raises:
        CheckSkipped: The model class declares itself not exportable.
    """
    import torch

    from pegboard.export import ExportError, export_onnx, export_torchscript
    from pegboard.testing.checks import _build, model_configs

    model_cfg, _ = model_configs(plugin, option, tmp_path, input_shape, num_classes, overrides)
    model = _build(model_cfg, plugin)
    reason = getattr(type(model), EXPORT_UNSUPPORTED, None)
    if reason:
        raise CheckSkipped(f"{type(model).__name__} is not exportable: {reason}")
    # Lightning calls setup() before a model runs; tasks build derived modules there.
    setup = getattr(model, "setup", None)
    if callable(setup):
        setup("predict")
    example = torch.randn(2, *input_shape, generator=torch.Generator().manual_seed(0))
    name = option.replace("/", "_")
    done = []
    try:
        export_torchscript(model, example, tmp_path / f"{name}.pt")
        done.append("torchscript")
        if _onnx_missing() is None:
            export_onnx(model, example, tmp_path / f"{name}.onnx")
            done.append("onnx")
    except ExportError as error:
        raise AssertionError(
            f"model={option}: {error}. Make the network exportable, or set "
            f"{EXPORT_UNSUPPORTED} = '<reason>' on {type(model).__name__}"
        ) from error
    return done
