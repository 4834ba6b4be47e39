"""A hook pack written by ``pegboard new-pack --kind hooks``, installed from its wheel.

Each hook the scaffold implements is exercised through the real ``pegboard`` command:
the callback, the resolver, the export and predict formats, the command and the
run-finished notice. Run by the nox session ``scaffold``; skipped where the pack is not
installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scaffold_helpers import pegboard, require_installed

PACK = os.environ.get("SCAFFOLD_HOOKS_PACK", "acme-hooks")
MODULE = PACK.replace("-", "_")
QUICK = (
    "model=mlp",
    "data=digits",
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
)

require_installed(PACK)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One training run whose epoch count comes from the pack's resolver (the folder)."""
    folder = tmp_path_factory.mktemp("hooks")
    result = pegboard("train", *QUICK, f"trainer.max_epochs=${{{MODULE}_cpus:}}", cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


def _runs(folder: Path, command: str) -> list[Path]:
    return sorted((folder / "logs" / command / "runs").iterdir())


def test_help_lists_the_command_and_imports_no_hook_module(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom pegboard_launcher.cli import main\nmain(['--help'])\n"
        f"main(['plugins'])\nprint('imported' if {MODULE + '.hooks'!r} in sys.modules else 'no')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert f"{PACK}-runs" in result.stdout and f"({PACK})" in result.stdout
    assert result.stdout.splitlines()[-1] == "no"


def test_the_resolver_and_the_callback_shape_the_run(trained: Path) -> None:
    (run,) = _runs(trained, "train")
    config = (run / "config.yaml").read_text()
    assert f"max_epochs: {os.cpu_count()}\n" in config
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["time/epoch_seconds"] > 0


def test_predictions_in_the_packs_format(trained: Path) -> None:
    result = pegboard("predict", "ckpt_path=best", f"output_format={MODULE}_jsonl", cwd=trained)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = _runs(trained, "predict")
    rows = [json.loads(line) for line in (run / f"predictions.{MODULE}_jsonl").open()]
    assert rows and set(rows[0]) >= {"index", "prediction", "class_name"}


def test_export_in_the_packs_format_holds_every_weight(trained: Path) -> None:
    import numpy as np
    import torch

    result = pegboard("export", "ckpt_path=best", f"format={MODULE}_npz", cwd=trained)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = _runs(trained, "export")
    (best,) = (_runs(trained, "train")[0] / "checkpoints").glob("epoch_*.ckpt")
    state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
    with np.load(run / f"model.{MODULE}_npz") as archive:
        assert sorted(archive.files) == sorted(state)
        for name, tensor in state.items():
            assert np.array_equal(archive[name], tensor.numpy())
    sidecar = json.loads((run / f"model.{MODULE}_npz.json").read_text())
    assert sidecar["format"] == f"{MODULE}_npz"


def test_the_packs_command_and_the_run_finished_notices(trained: Path) -> None:
    result = pegboard(f"{PACK}-runs", cwd=trained)
    assert result.returncode == 0, result.stderr
    (run,) = _runs(trained, "train")
    assert f"{run.name}  completed" in result.stdout
    notices = [json.loads(line) for line in (trained / "logs" / f"{MODULE}_runs.jsonl").open()]
    by_run = {Path(notice["run_dir"]).parent.parent.name: notice for notice in notices}
    assert by_run["train"]["status"] == "completed"
    assert by_run["train"]["metrics"]["test/acc"] > 0.5
    assert len(notices) == 1 + sum(command in by_run for command in ("predict", "export"))
