"""Fine-tuning through the `pegboard` command: a digits CNN onto a folder of 3 classes."""

from __future__ import annotations

import hashlib
import io
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import metrics_of, run_dir_of

from pegboard.testing.http_server import RangeServer

Run = Callable[..., subprocess.CompletedProcess[str]]
#: A checkpoint `pegboard train model=cnn data=digits` wrote on pegboard 0.1 (width 8, 1 stage).
OLD_CNN = Path(__file__).parent / "data" / "pegboard-0.1-cnn-digits.ckpt"
#: Its convolutions and BatchNorms; net.9 is the 10-class head.
FEATURES = ("net.0", "net.1", "net.3", "net.4")


def _image_folder(root: Path, per_class: int = 24) -> Path:
    """Three classes of real 8x8 grey PNG files: horizontal, vertical and diagonal stripes."""
    from PIL import Image

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:8, 0:8]
    patterns = {"across": rows % 2, "down": cols % 2, "diagonal": (rows + cols) % 2}
    for name, pattern in patterns.items():
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = pattern * 160 + rng.integers(0, 90, size=(8, 8))
            Image.fromarray(pixels.astype(np.uint8), mode="L").save(root / name / f"{index}.png")
    return root


def _args(folder: Path) -> list[str]:
    return [
        "train",
        "model.width=8",
        "model.stages=1",  # the digits CNN's own shape: its convolutions fit
        "data=image_folder",
        f"data.data_dir={folder}",
        "data.num_classes=3",
        "data.channels=1",
        "data.image_size=[8,8]",
        "data.augment=null",
        "data.batch_size=16",
        "data.num_workers=0",
        "trainer.max_epochs=1",
        "~callbacks.progress_bar",
        "trainer.enable_progress_bar=false",
        "plots=false",
    ]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def test_a_digits_cnn_fine_tunes_onto_three_classes_with_its_features_frozen(
    run_pegboard: Run, tmp_path: Path
) -> None:
    folder = _image_folder(tmp_path / "shapes")
    freeze = "model.freeze=[" + ",".join(FEATURES) + "]"
    result = run_pegboard(*_args(folder), f"model.init_from={OLD_CNN}", freeze)
    output = _ok(result)
    assert (
        f"model.init_from={OLD_CNN}: loaded 12 of 14 tensors; re-initialized 2 whose shape "
        "changed: net.9.weight [10, 8] -> [3, 8], net.9.bias [10] -> [3]\n"
    ) in output
    assert "model.freeze=[net.0, net.1, net.3, net.4]: 680 of 707 parameters frozen" in output
    assert "Test accuracy: " in result.stdout
    run_dir = run_dir_of(result)
    assert 0.0 <= metrics_of(run_dir)["test/acc"] <= 1.0

    source = torch.load(OLD_CNN, weights_only=True)["state_dict"]
    best = torch.load(next((run_dir / "checkpoints").glob("epoch_*.ckpt")), weights_only=True)
    trained = best["state_dict"]
    frozen = [name for name in source if name.startswith(tuple(f"{p}." for p in FEATURES))]
    assert len(frozen) == 12  # weights, BatchNorm affine and running statistics
    for name in frozen:
        assert torch.equal(trained[name], source[name]), name
    assert trained["net.9.weight"].shape == (3, 8)
    # The run says where it started from; the class never saw the setting.
    stored = best["pegboard"]["config"]["model"]
    assert stored["init_from"] == str(OLD_CNN) and stored["freeze"] == list(FEATURES)
    assert "init_from" not in best["hyper_parameters"]

    # The other stages rebuild the model from the checkpoint, the setting left aside.
    stage = ["trainer.enable_progress_bar=false"]
    evaluated = run_pegboard("eval", "ckpt_path=best", *stage)
    _ok(evaluated)
    assert metrics_of(run_dir_of(evaluated))["test/acc"] == metrics_of(run_dir)["test/acc"]
    _ok(run_pegboard("export", "ckpt_path=best", "format=torchscript"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RangeServer]:
    """A local HTTP server (the kit's) for the weights file."""
    with RangeServer(tmp_path / "www") as server:
        yield server


def test_weights_by_url_are_verified_before_training(
    run_pegboard: Run, server: RangeServer, tmp_path: Path
) -> None:
    # The bare network's state dict (conv weights named 0.weight, not net.0.weight).
    state = torch.load(OLD_CNN, weights_only=True)["state_dict"]
    data = io.BytesIO()
    torch.save({name.removeprefix("net."): t for name, t in state.items()}, data)
    url = server.put("w.pt", data.getvalue())
    digest = hashlib.sha256(data.getvalue()).hexdigest()
    env = {"PEGBOARD_CACHE_DIR": str(tmp_path / "cache"), "no_proxy": "127.0.0.1"}
    folder = _image_folder(tmp_path / "shapes", per_class=8)
    args = [*_args(folder), f"model.init_from={url}", "test=false"]

    wrong = run_pegboard(*args, f"model.init_sha256={'0' * 64}", env=env)
    assert wrong.returncode == 2, wrong.stderr[-3000:]
    lines = [line for line in wrong.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and digest in lines[0] and "Traceback" not in wrong.stderr, lines
    assert not list((tmp_path / "logs").rglob("*.ckpt"))  # refused before training
    # A file that is not there is found before the run folder is made.
    runs = set((tmp_path / "logs" / "train" / "runs").iterdir())
    missing = run_pegboard(*_args(folder), "model.init_from=gone.ckpt", env=env)
    assert missing.returncode == 2, missing.stderr[-3000:]
    assert missing.stderr.strip().endswith("model.init_from=gone.ckpt: no such file")
    assert set((tmp_path / "logs" / "train" / "runs").iterdir()) == runs

    output = _ok(run_pegboard(*args, f"model.init_sha256={digest}", env=env))
    assert (
        f"model.init_from={url}: loaded 12 of 14 tensors; re-initialized 2 whose shape "
        "changed: net.9.weight [10, 8] -> [3, 8], net.9.bias [10] -> [3]; the file's names "
        "with 'net.' added"
    ) in output
