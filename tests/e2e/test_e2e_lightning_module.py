"""A plain LightningModule through the `pegboard` command; what cannot work stops before an epoch.

The module is the installed test pack pegboard-lit-port (tests/packs/pegboard-lit-port), a
``pytorch_lightning.LightningModule`` that is not a ``pegboard.Model``. The refused
modules are project files in the working directory, as a user's port starts out.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import metrics_of, run_dir_of

QUICK = [
    "data=digits",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=8",
    "~callbacks.progress_bar",
    "trainer.enable_progress_bar=false",
]
STAGE = ["trainer.enable_progress_bar=false"]

#: What users bring: a template's module built around a ready-made network, one that logs
#: `valid/` names, and one written for the unified `lightning` package.
PROJECT = """\
import torch
from torch import nn
from torch.nn import functional as F
{import_line}


class Net(nn.Module):
    def __init__(self, size: int = 64, classes: int = 10):
        super().__init__()
        self.layer = nn.Sequential(nn.Flatten(), nn.Linear(size, classes))

    def forward(self, x):
        return self.layer(x)


class Port({base}):
    def __init__(self, net: nn.Module = None, optimizer=None, scheduler=None, prefix: str = "val"):
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.net = net if net is not None else Net()

    def forward(self, x):
        return self.net(x)

    def _step(self, batch, stage):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log(f"{{stage}}/loss", loss)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, self.hparams.prefix)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
"""
CASES = {
    "module_hyperparameter": (
        "import pytorch_lightning as pl",
        "pl.LightningModule",
        "_target_: port.Port\nnet: {_target_: port.Net}\n"
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n",
        "hyper-parameter net is a port.Net (an nn.Module); hyper-parameter optimizer is a "
        "partial of torch.optim.sgd.SGD",
    ),
    "valid_metric_names": (
        "import pytorch_lightning as pl",
        "pl.LightningModule",
        "_target_: port.Port\nprefix: valid\n",
        "monitor 'val/loss', which Port does not log. Did you mean 'valid/loss'?",
    ),
    "lightning_package": (
        "import lightning as L",
        "L.LightningModule",
        "_target_: port.Port\n",
        "a LightningModule of the `lightning` package: pegboard trains with `pytorch_lightning`",
    ),
}


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_a_plain_lightning_module_trains_evaluates_predicts_and_exports(run_pegboard) -> None:
    # One training run, then every stage on its best checkpoint (one test: xdist workers
    # never train it twice).
    trained = _ok(run_pegboard("train", "model=lit_port_digits", *QUICK))
    run_dir = run_dir_of(trained)
    assert {"val/loss", "val/acc", "test/loss", "test/acc"} <= set(metrics_of(run_dir))
    best = next((run_dir / "checkpoints").glob("epoch_*.ckpt"))

    evaluated = _ok(run_pegboard("eval", f"ckpt_path={best}", *STAGE))
    assert metrics_of(run_dir_of(evaluated))["test/acc"] == pytest.approx(
        metrics_of(run_dir)["test/acc"]
    )

    predicted = _ok(run_pegboard("predict", f"ckpt_path={best}", *STAGE))
    rows = list(csv.DictReader((run_dir_of(predicted) / "predictions.csv").open()))
    assert rows and {"prediction", "class_name", *(f"prob_{d}" for d in range(10))} <= set(rows[0])
    assert sum(float(rows[0][f"prob_{d}"]) for d in range(10)) == pytest.approx(1, abs=1e-4)

    from pegboard_lit_port.lit_module import LitClassifier

    model = LitClassifier.load_from_checkpoint(best, map_location="cpu", weights_only=True).eval()
    inputs = torch.randn(3, 1, 8, 8)
    for fmt, name in (("onnx", "model.onnx"), ("torchscript", "model.pt")):
        exported = _ok(run_pegboard("export", f"ckpt_path={best}", f"format={fmt}"))
        sidecar = json.loads((run_dir_of(exported) / f"{name}.json").read_text())
        assert sidecar["model_class"] == "pegboard_lit_port.lit_module.LitClassifier"
    with torch.no_grad():
        scripted = torch.jit.load(str(run_dir_of(exported) / "model.pt"))
        assert torch.allclose(scripted(inputs), model(inputs), atol=1e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_what_cannot_train_stops_before_the_first_epoch_ends(
    case: str, run_pegboard, tmp_path: Path
) -> None:
    import_line, base, config, expected = CASES[case]
    if import_line.startswith("import lightning") and importlib.util.find_spec("lightning") is None:
        pytest.skip("the `lightning` package is not installed here (pip install lightning)")
    project = tmp_path / "project"
    (project / "configs" / "model").mkdir(parents=True)
    (project / "port.py").write_text(PROJECT.format(import_line=import_line, base=base))
    (project / "configs" / "model" / "port.yaml").write_text(config)

    result = run_pegboard("train", "model=port", *QUICK, cwd=project)
    errors = [line for line in result.stderr.splitlines() if line.startswith("pegboard: error:")]
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-4000:]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    (run_dir,) = (tmp_path / "logs" / "train" / "runs").iterdir()
    assert json.loads((run_dir / "status.json").read_text())["status"] == "failed"
    assert not list(run_dir.rglob("*.ckpt"))  # no epoch ended: nothing was checkpointed
