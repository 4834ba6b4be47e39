"""Kit checks of what a model leaves behind: plain hyper-parameters and working exports."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: A model class sets this to a reason to be reported "skipped" by the export check.
EXPORT_UNSUPPORTED = "export_unsupported"


class CheckSkipped(Exception):
    """A check that does not apply, with the reason (the pytest suite turns it into a skip).

    Args:
        reason: Why the check does not apply.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_hparams(model: Any, label: str = "model") -> None:
    """Assert that a model's saved hyper-parameters are plain values.

    ``torch.load(weights_only=True)`` refuses to unpickle anything else (configs,
    tensors aside, classes, functions), so a checkpoint with such hyper-parameters cannot
    be loaded safely. The check is the runner's own (``pegboard.runner.contract``), which
    refuses such a model before training; the message names every offending argument.

    Args:
        model: A LightningModule (its ``hparams``) or a mapping of hyper-parameters.
        label: How to name the model in the message.
    """
    from pegboard.runner.contract import hparams_problem

    problem = hparams_problem(model, label)
    assert problem is None, problem


def _missing(*names: str) -> str | None:
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    return ", ".join(missing) if missing else None


def _onnx_missing() -> str | None:
    return _missing("onnx", "onnxruntime", "onnxscript")


def _warm_up(model: Any, example: Any) -> None:
    """Move batch-norm statistics away from their initial values, so a mismatch shows."""
    import torch
    from torch import nn

    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
    if not any(isinstance(module, norms) for module in model.modules()):
        return
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(example)
    model.eval()


def check_export(
    plugin: str,
    option: str,
    tmp_path: Path,
    input_shape: Sequence[int] = (1, 8, 8),
    num_classes: int = 10,
    overrides: Sequence[str] = (),
) -> list[str]:
    """Check that ``model=<option>`` exports as ``pegboard export`` would, same outputs.

    The same functions as ``pegboard export`` (``pegboard.export``): TorchScript; ONNX
    when onnx, onnxruntime and onnxscript are installed; safetensors when safetensors
    is. Each artifact must answer as the model does, on the example batch and on one of
    another size. A model class that cannot be exported says why in a class attribute,
    ``export_unsupported = "reason"``; the check is then skipped with that reason.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        option: The model option.
        tmp_path: A scratch folder.
        input_shape: Image shape when the config declares no ``_kit_`` shape.
        num_classes: Number of classes when the config declares none.
        overrides: Extra Hydra overrides.

    Returns:
        The formats exported and verified (``["torchscript", "onnx", "safetensors"]``).

    Raises:
        CheckSkipped: The model class declares itself not exportable.
    """
    import torch

    from pegboard.export import ExportError, export_onnx, export_safetensors, export_torchscript
    from pegboard.testing.model_check import build_node, first_task, model_case

    task = first_task(plugin, option, tmp_path)
    case = model_case(plugin, option, tmp_path, input_shape, num_classes, overrides, task)
    model = build_node(case.model, plugin)
    reason = getattr(type(model), EXPORT_UNSUPPORTED, None)
    if reason:
        raise CheckSkipped(f"{type(model).__name__} is not exportable: {reason}")
    # Lightning calls setup() before a model runs; tasks build derived modules there.
    setup = getattr(model, "setup", None)
    if callable(setup):
        setup("predict")
    example = torch.randn(2, *case.input_shape, generator=torch.Generator().manual_seed(0))
    _warm_up(model, example)
    name = option.replace("/", "_")
    done = []
    try:
        export_torchscript(model, example, tmp_path / f"{name}.pt")
        done.append("torchscript")
        if _onnx_missing() is None:
            export_onnx(model, example, tmp_path / f"{name}.onnx")
            done.append("onnx")
        if _missing("safetensors") is None:
            export_safetensors(model, example, tmp_path / f"{name}.safetensors")
            done.append("safetensors")
    except ExportError as error:
        raise AssertionError(
            f"model={option}: {error}. Make the network exportable, or set "
            f"{EXPORT_UNSUPPORTED} = '<reason>' on {type(model).__name__}"
        ) from error
    return done


__all__ = ["EXPORT_UNSUPPORTED", "CheckSkipped", "check_export", "check_hparams"]
