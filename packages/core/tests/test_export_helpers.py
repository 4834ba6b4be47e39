"""pegboard.export: artifacts reload and match, and mismatches are caught."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from pegboard.export import ExportError, export_onnx, export_torchscript, exportable
from pegboard.tasks import ClassificationModel

ONNX_MISSING = [
    name for name in ("onnx", "onnxruntime", "onnxscript") if importlib.util.find_spec(name) is None
]
needs_onnx = pytest.mark.skipif(
    bool(ONNX_MISSING), reason=f"needs {ONNX_MISSING} (pip install onnx onnxruntime onnxscript)"
)


class Classifier(ClassificationModel):
    def __init__(self) -> None:
        super().__init__(3)
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4, 3),
        )


class Noisy(nn.Module):
    """Answers differently at every call: no artifact can match it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.rand_like(x)


@pytest.mark.parametrize("method", ["trace", "script"])
def test_torchscript_roundtrip_of_a_pegboard_model(method: str, tmp_path: Path) -> None:
    model = Classifier().train()
    example = torch.randn(2, 1, 8, 8)
    path = export_torchscript(model, example, tmp_path / "m.pt", method=method)
    assert model.training, "the model's mode is restored after export"
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.load(str(path))(example), model(example))


def test_torchscript_mismatch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="differ"):
        export_torchscript(Noisy(), torch.zeros(2, 3), tmp_path / "n.pt")


def test_exportable_picks_the_inference_network() -> None:
    model = Classifier()
    assert exportable(model) is model.net
    bare = nn.Linear(2, 2)
    assert exportable(bare) is bare


@needs_onnx
def test_onnx_roundtrip_with_dynamic_batch(tmp_path: Path) -> None:
    import onnxruntime

    model = Classifier()
    path = export_onnx(model, torch.randn(2, 1, 8, 8), tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = torch.randn(7, 1, 8, 8)
    (out,) = session.run(None, {"input": batch.numpy()})
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(out), model(batch), rtol=1e-4, atol=1e-5)


@needs_onnx
def test_onnx_mismatch_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="differ"):
        export_onnx(Noisy(), torch.zeros(2, 3), tmp_path / "n.onnx")


def test_onnx_dynamic_batch_needs_two_samples(tmp_path: Path) -> None:
    if ONNX_MISSING:
        pytest.skip(f"needs {ONNX_MISSING}")
    with pytest.raises(ValueError, match="batch of 2"):
        export_onnx(nn.Linear(3, 2), torch.zeros(1, 3), tmp_path / "l.onnx")
