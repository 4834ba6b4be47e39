"""Every native model exports to TorchScript and ONNX, and the files answer as the model does."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import NATIVE

from pegboard.export import export_onnx, export_torchscript

ONNX_MISSING = [
    name for name in ("onnx", "onnxruntime", "onnxscript") if importlib.util.find_spec(name) is None
]
#: Narrower versions of the large configs: export covers the architecture, not its width.
SLIM = {
    "resnet18": ["model.width=8"],
    "resnet34": ["model.width=8"],
    "resnet50": ["model.width=8"],
    "wide_resnet": ["model.widen_factor=1"],
    "mobilenet_v2": ["model.width_mult=0.25", "model.last_channels=64"],
    "vit_tiny": ["model.dim=48", "model.depth=2"],
}


def _trained_a_little(model: Any) -> Any:
    # Running statistics away from their initial values, so a mismatch would show.
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 1, 8, 8))
    return model.eval()


@pytest.mark.parametrize("method", ["trace", "script"])
@pytest.mark.parametrize("option", NATIVE)
def test_torchscript(
    option: str, method: str, build_model: Callable[..., Any], tmp_path: Path
) -> None:
    model = _trained_a_little(build_model(option, overrides=SLIM.get(option, [])))
    path = export_torchscript(model, torch.randn(4, 1, 8, 8), tmp_path / "model.pt", method)
    reloaded = torch.jit.load(str(path))
    other_batch = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(other_batch), model(other_batch))


@pytest.mark.skipif(
    bool(ONNX_MISSING), reason=f"needs {ONNX_MISSING}: pip install 'pegboard-models-vision[onnx]'"
)
@pytest.mark.parametrize("option", NATIVE)
def test_onnx(option: str, build_model: Callable[..., Any], tmp_path: Path) -> None:
    import onnxruntime

    model = _trained_a_little(build_model(option, overrides=SLIM.get(option, [])))
    path = export_onnx(model, torch.randn(4, 1, 8, 8), tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    other_batch = torch.randn(3, 1, 8, 8)  # a batch size the export never saw
    (logits,) = session.run(None, {"input": other_batch.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(
            torch.from_numpy(logits), model(other_batch), rtol=1e-4, atol=1e-5
        )
