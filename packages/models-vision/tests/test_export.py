"""Every native model scripts to TorchScript, and the file answers as the model does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import NATIVE, SLIM

from pegboard.export import export_torchscript


def _trained_a_little(model: Any) -> Any:
    # Running statistics away from their initial values, so a mismatch would show.
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 1, 8, 8))
    return model.eval()


# Tracing and ONNX run in test_conformance.py, through the kit's export check (the
# functions `pegboard export` calls, checked on a batch of another size as well).
@pytest.mark.parametrize("method", ["script"])
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
