"""Manifests and the command line must not pay for torch: check what imports load."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(result.stdout.strip().split(","))


def test_plugin_manifest_imports_no_torch() -> None:
    loaded = _loaded_after(
        "import pegboard, pegboard.plugin, pegboard.runner, pegboard.testing.compose"
    )
    assert "torch" not in loaded
    assert "pytorch_lightning" not in loaded


def test_model_is_loaded_on_first_use() -> None:
    loaded = _loaded_after("import pegboard; pegboard.Model")
    assert {"torch", "pytorch_lightning"} <= loaded
