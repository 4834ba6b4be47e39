"""Export a model to TorchScript, ONNX or safetensors, and prove the file answers the same.

These helpers take any ``torch.nn.Module`` (a ``pegboard.Model``, exported through its
``inference_network()``, any other LightningModule, or a bare network) and an example
batch. Each writes the artifact, loads it back with the runtime that will serve it
(``torch.jit.load``, ``onnxruntime``, a fresh model) and compares its outputs with the
model's on the example and on a batch of another size, so a broken export fails here and
not in production. They know nothing of configs or the command line: ``pegboard export``,
the conformance kit and scripts build on them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

#: Default tolerances of the output comparison: exports reorder float operations.
RTOL = 1e-4
ATOL = 1e-5

ONNX_HINT = "pip install onnx onnxruntime onnxscript"


class ExportError(RuntimeError):
    """An export failed, or its artifact does not reproduce the model's outputs."""


def exportable(model: nn.Module) -> nn.Module:
    """The module to export for ``model``: its ``inference_network()`` when it has one.

    A LightningModule's training machinery does not belong in a deployed file, so
    pegboard's tasks name the plain network that answers in eval mode. Any other module
    (a LightningModule without the method included) is exported as it is.

    Args:
        model: A ``pegboard.Model`` or any ``nn.Module``.
    """
    network = getattr(model, "inference_network", None)
    return network() if callable(network) else model


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    # Exports capture inference behaviour (BatchNorm statistics, no dropout); the model
    # goes back to the mode it was in afterwards.
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def other_batch(example: torch.Tensor) -> torch.Tensor:
    """A batch one larger than ``example``: a file that fixed the batch size fails on it.

    Args:
        example: The example batch.
    """
    return torch.cat([example, example[:1]])


def _compare(
    name: str, expected: torch.Tensor, actual: torch.Tensor, rtol: float, atol: float
) -> None:
    if expected.shape != actual.shape:
        raise ExportError(
            f"{name} outputs shape {tuple(actual.shape)}, the model {tuple(expected.shape)}"
        )
    if not torch.allclose(expected, actual, rtol=rtol, atol=atol):
        worst = (expected - actual).abs().max().item()
        raise ExportError(
            f"{name} outputs differ from the model's by up to {worst:.3g} "
            f"(rtol={rtol}, atol={atol})"
        )


def export_torchscript(
    model: nn.Module,
    example: torch.Tensor,
    path: str | Path,
    method: str = "trace",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Path:
    """Save ``model`` as TorchScript, reload it and check it matches on ``example``.

    Args:
        model: The module to export (see ``exportable``); exported in eval mode.
        example: An example input batch (it fixes nothing but is traced through).
        path: Where to write the ``.pt`` file.
        method: ``"trace"`` records the operations run on ``example`` (any feed-forward
            network); ``"script"`` compiles the Python code, keeping control flow, and
            fails on code TorchScript cannot read.
        rtol: Relative tolerance of the output check.
        atol: Absolute tolerance of the output check.

    Returns:
        The path written.

    Raises:
        ExportError: The export failed or the reloaded module answers differently.
    """
    if method not in ("trace", "script"):
        raise ValueError(f"method must be 'trace' or 'script', got {method!r}")
    model = exportable(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    larger = other_batch(example)
    with _eval_mode(model), torch.no_grad():
        expected, expected_larger = model(example), model(larger)
        try:
            with warnings.catch_warnings():
                # Tracing warns about every Python-level branch; the output check below
                # is what tells whether the trace is faithful.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                scripted = _to_torchscript(model, example, method)
            torch.jit.save(scripted, str(path))
        except Exception as error:
            raise ExportError(
                f"TorchScript {method} of {type(model).__name__} failed: {error}"
            ) from error
        reloaded = torch.jit.load(str(path), map_location=example.device)
        _compare("the TorchScript module", expected, reloaded(example), rtol, atol)
        _compare("the TorchScript module", expected_larger, reloaded(larger), rtol, atol)
    return path


def _to_torchscript(model: nn.Module, example: torch.Tensor, method: str) -> Any:
    import pytorch_lightning as pl

    if isinstance(model, pl.LightningModule):
        # torch.jit.trace of a LightningModule outside a Trainer fails on its `trainer`
        # property; Lightning's public to_torchscript traces or scripts it correctly.
        # It is deprecated with TorchScript itself, which pegboard still offers.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return model.to_torchscript(method=method, example_inputs=example)
    return torch.jit.trace(model, example) if method == "trace" else torch.jit.script(model)


def _onnx_runtime() -> object:
    try:
        import onnx  # noqa: F401 - needed by the exporter itself
        import onnxruntime
    except ImportError as error:
        raise ModuleNotFoundError(
            f"ONNX export needs onnx and onnxruntime ({error}); {ONNX_HINT}"
        ) from error
    return onnxruntime


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    path: str | Path,
    dynamic_batch: bool = True,
    opset_version: int | None = None,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Path:
    """Save ``model`` as ONNX, run it in onnxruntime and check it matches on ``example``.

    The graph is captured with ``torch.export`` (``torch.onnx.export(dynamo=True)``), the
    exporter PyTorch maintains. The single input is named ``input``, the output ``output``.

    Args:
        model: The module to export (see ``exportable``); exported in eval mode.
        example: An example input batch. With ``dynamic_batch`` its batch size must be at
            least 2, or ``torch.export`` specialises the batch dimension to 1.
        path: Where to write the ``.onnx`` file.
        dynamic_batch: Let the file take any batch size.
        opset_version: ONNX opset; ``None`` takes the exporter's default.
        rtol: Relative tolerance of the output check.
        atol: Absolute tolerance of the output check.

    Returns:
        The path written.

    Raises:
        ModuleNotFoundError: onnx, onnxscript or onnxruntime is not installed.
        ExportError: The export failed or onnxruntime answers differently.
    """
    onnxruntime = _onnx_runtime()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if dynamic_batch and example.shape[0] < 2:
        raise ValueError("export_onnx with dynamic_batch needs an example batch of 2 or more")
    dynamic_shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    model = exportable(model)
    with _eval_mode(model), torch.no_grad():
        expected = model(example)
        try:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                dynamic_shapes=dynamic_shapes,
                input_names=["input"],
                output_names=["output"],
                opset_version=opset_version,
                external_data=False,
                verbose=False,
            )
        except ImportError as error:
            raise ModuleNotFoundError(
                f"ONNX export needs onnxscript ({error}); {ONNX_HINT}"
            ) from error
        except Exception as error:
            raise ExportError(f"ONNX export of {type(model).__name__} failed: {error}") from error
    session = onnxruntime.InferenceSession(  # type: ignore[attr-defined]
        str(path), providers=["CPUExecutionProvider"]
    )
    (actual,) = session.run(None, {"input": example.detach().cpu().numpy()})
    _compare("the ONNX model", expected.cpu(), torch.from_numpy(actual), rtol, atol)
    if dynamic_batch:
        larger = other_batch(example)
        with _eval_mode(model), torch.no_grad():
            expected_larger = model(larger)
        (actual,) = session.run(None, {"input": larger.detach().cpu().numpy()})
        _compare("the ONNX model", expected_larger.cpu(), torch.from_numpy(actual), rtol, atol)
    return path


def export_safetensors(
    model: nn.Module,
    example: torch.Tensor,
    path: str | Path,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Path:
    """Save a LightningModule's weights as safetensors; check a fresh model loads them.

    The file holds the weights only. The fresh model is built from the saved
    hyperparameters (``type(model)(**model.hparams)``), as a server would build it, so a
    model whose constructor needs more than its hyperparameters fails here.

    Args:
        model: A LightningModule whose constructor takes its ``hparams``.
        example: An example input batch.
        path: Where to write the ``.safetensors`` file.
        rtol: Relative tolerance of the output check.
        atol: Absolute tolerance of the output check.

    Returns:
        The path written.

    Raises:
        ModuleNotFoundError: safetensors is not installed.
        ExportError: The model cannot be rebuilt from its hyperparameters, or the
            rebuilt one answers differently.
    """
    try:
        from safetensors.torch import load_file, save_file
    except ImportError as error:
        raise ModuleNotFoundError(f"safetensors export needs safetensors ({error})") from error
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cls = type(model)
    # Clones: tensors sharing storage (tied weights) cannot be saved as they are.
    state = {name: t.detach().clone().contiguous() for name, t in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt", "model_class": _class_path(model)})
    try:
        fresh = cls(**dict(getattr(model, "hparams", {})))
        fresh.load_state_dict(load_file(str(path)))
    except Exception as error:
        raise ExportError(
            f"{cls.__name__} cannot be rebuilt from its saved hyperparameters and the "
            f"weights in {path.name} ({type(error).__name__}: {error}); save every "
            "constructor argument with save_hyperparameters()"
        ) from error
    with _eval_mode(model), torch.no_grad():
        fresh.eval()
        _compare("the model rebuilt from the file", model(example), fresh(example), rtol, atol)
    return path


def _class_path(model: nn.Module) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


__all__ = [
    "ATOL",
    "ONNX_HINT",
    "RTOL",
    "ExportError",
    "export_onnx",
    "export_safetensors",
    "export_torchscript",
    "exportable",
    "other_batch",
]
