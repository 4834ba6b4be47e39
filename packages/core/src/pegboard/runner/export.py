"""``pegboard export``: a checkpoint as TorchScript, ONNX or safetensors, verified.

Each artifact is reloaded with the runtime that will serve it and must reproduce the
checkpoint's outputs on a sample batch; beside it goes ``<artifact>.json`` with what a
server needs to feed it: input shape, normalization, class names, and where it came from.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from pegboard.config_guard import plain_name
from pegboard.errors import ConfigError
from pegboard.export import (
    ATOL,
    RTOL,
    ExportError,
    export_onnx,
    export_safetensors,
    export_torchscript,
    exportable,
)
from pegboard.runner.build import build, check_nodes, write_run_files
from pegboard.runner.data_state import normalization, saved_data_state
from pegboard.runner.lifecycle import Outcome
from pegboard.runner.pack_formats import Offered, check_format, offered_formats, write_with_pack
from pegboard.runner.registry import register_export
from pegboard.runner.stage import Restored, open_checkpoint, run_stage
from pegboard.runtime import pack_versions

log = logging.getLogger(__name__)

#: Export format to file suffix.
FORMATS = {"torchscript": ".pt", "onnx": ".onnx", "safetensors": ".safetensors"}
#: The hook through which packs add formats (a pack's format ``NAME`` writes ``model.NAME``).
EXPORT_HOOK = "pegboard_export_formats"


def export(cfg: DictConfig) -> Path:
    """Export the checkpoint ``cfg.ckpt_path`` in ``cfg.format`` into the run directory.

    Args:
        cfg: A composed ``export`` config: ``ckpt_path``, ``format`` (torchscript, onnx,
            safetensors), ``method`` (TorchScript trace or script), ``sample`` (``data``:
            a batch of the checkpoint's data; ``random``: normal noise of the input
            shape), ``sample_size``, ``name`` (file name without suffix).

    Returns:
        The artifact written.
    """
    fmt = str(cfg.get("format"))
    offered = offered_formats(EXPORT_HOOK, FORMATS)
    check_format("format", fmt, FORMATS, offered, EXPORT_HOOK)
    plain_name(cfg.get("name") or "model", "name")  # the artifact stays in the run directory
    return run_stage(cfg, "export", functools.partial(_export, offered=offered))


def sample_batch(cfg: DictConfig, restored: Restored) -> torch.Tensor:
    """The batch the artifact is checked on: real inputs of the checkpoint's data, or noise.

    Args:
        cfg: The export config (``sample``, ``sample_size``).
        restored: The opened checkpoint.
    """
    size = max(2, int(cfg.get("sample_size", 4)))  # ONNX's dynamic batch needs 2 or more
    if str(cfg.get("sample", "data")) == "random":
        generator = torch.Generator().manual_seed(int(restored.config.get("seed") or 0))
        return torch.randn(size, *restored.input_shape, generator=generator)
    check_nodes([("data", restored.config["data"])])
    datamodule = build(restored.config["data"], "data")
    try:
        datamodule.prepare_data()
        datamodule.setup("test")
        # The normalization the model was trained with, found as RestoreDataState finds
        # it: only a datamodule of the class that saved it gets it.
        state = saved_data_state(restored.checkpoint, type(datamodule))
        if state:
            datamodule.load_state_dict(state)
        inputs = next(iter(datamodule.test_dataloader()))[0]
    except ConfigError as error:
        raise ConfigError(f"{error} (or export with sample=random)") from error
    return inputs[:size].float()


def _safetensors(model: Any, restored: Restored, example: torch.Tensor, path: Path) -> Path:
    try:
        return export_safetensors(model, example, path)
    except ModuleNotFoundError as error:
        raise ConfigError(
            f"format=safetensors needs safetensors: pip install pegboard-core[safetensors] "
            f"({error})"
        ) from error


def _class_path(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _export(cfg: DictConfig, run_dir: Path, offered: Offered) -> Outcome[Path]:
    restored = open_checkpoint(cfg, "export")
    write_run_files(run_dir, restored.config, pack_versions())
    fmt = str(cfg.format)
    example = sample_batch(cfg, restored)
    model = restored.model.eval()
    suffix = FORMATS.get(fmt, f".{fmt}")
    path = run_dir / f"{plain_name(cfg.get('name') or 'model', 'name')}{suffix}"
    try:
        if fmt in offered:
            path = write_with_pack("format", fmt, offered, model, example, path)
        elif fmt == "torchscript":
            export_torchscript(model, example, path, method=str(cfg.get("method", "trace")))
        elif fmt == "onnx":
            export_onnx(model, example, path)
        else:
            _safetensors(model, restored, example, path)
    except ModuleNotFoundError as error:
        raise ConfigError(f"format={fmt}: {error}; or pip install pegboard-core[onnx]") from error
    except ExportError as error:  # the artifact failed or answers differently: one line, no file
        raise ConfigError(f"format={fmt}: {error}") from error
    sidecar = write_sidecar(path, fmt, model, restored, example)
    checked = f"checked on {len(example)} samples; details in {sidecar.name}"
    lines = [f"Exported {fmt}: {path} ({checked})"]
    if cfg.get("register"):
        lines.append(_register(cfg, restored, [path, sidecar, run_dir / "packs.json"], model))
    return Outcome(path, {"sample_size": float(len(example))}, tuple(lines))


def _register(cfg: DictConfig, restored: Restored, files: list[Path], model: Any) -> str:
    name = str(cfg.register)
    tags = {
        "pegboard.format": str(cfg.format),
        "pegboard.model": _class_path(model),
        "pegboard.checkpoint": str(restored.path.resolve()),
        **{f"pack.{dist}": version for dist, version in sorted(restored.record.packs.items())},
    }
    version = register_export(str(cfg.paths.tracking_uri), name, files, restored.path, tags)
    return f"Registered models:/{name}/{version} in {cfg.paths.tracking_uri}"


def _task_fields(model: Any, restored: Restored) -> dict[str, Any]:
    # What the artifact's outputs are: logits of named classes, or values in data units.
    from pegboard.supervision import REGRESSION, config_task

    task = getattr(model, "task", None) or config_task(restored.config.get("data") or {})
    if task == REGRESSION:
        return {
            "task": task,
            "outputs": "values, in the data's units",
            "num_outputs": getattr(model, "num_outputs", None),
        }
    return {
        "task": task or "classification",
        "outputs": "logits (softmax gives the class probabilities)",
        "class_names": restored.data_state.get("class_names"),
        "num_classes": getattr(model, "num_classes", None),
    }


def write_sidecar(
    path: Path, fmt: str, model: Any, restored: Restored, example: torch.Tensor
) -> Path:
    """Write ``<artifact>.json``: what serving the artifact needs to know.

    Args:
        path: The artifact.
        fmt: Its format.
        model: The exported model.
        restored: The checkpoint it came from.
        example: The batch it was verified on.
    """
    info = {
        "format": fmt,
        "artifact": path.name,
        "input_shape": restored.input_shape,
        "input_dtype": str(example.dtype).removeprefix("torch."),
        "input_name": "input" if fmt == "onnx" else None,
        "normalization": normalization(restored.checkpoint, restored.data_state),
        # What the datamodule saved (a table's fitted preprocessing: columns, scaling,
        # categories): serving applies it to raw inputs before the artifact.
        "data_state": restored.data_state or None,
        **_task_fields(model, restored),
        "model_class": _class_path(model),
        "exported_module": type(exportable(model)).__name__,
        "hyperparameters": dict(getattr(model, "hparams", {})),
        "checkpoint": str(restored.path.resolve()),
        "packs": restored.record.packs,
        "verified": {"sample_size": len(example), "rtol": RTOL, "atol": ATOL},
    }
    sidecar = path.with_name(path.name + ".json")
    sidecar.write_text(json.dumps(info, indent=2, default=str))
    return sidecar


__all__ = ["EXPORT_HOOK", "FORMATS", "export", "sample_batch", "write_sidecar"]
