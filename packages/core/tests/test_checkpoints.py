"""Checkpoint resolution, atomic writes, corrupt-file skipping and the stateful loader."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from pegboard.errors import ConfigError
from pegboard.loaders import TensorBatchLoader
from pegboard.runner import checkpoint as ckpt
from pegboard.runner import checkpoint_io, run_search
from pegboard.runner.metadata import CHECKPOINT_KEY


def _write(path: Path, step: int, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.full((2,), float(step))}, "global_step": step}, path)
    os.utime(path, (mtime, mtime))
    return path


def test_atomic_write_keeps_the_previous_file_when_the_write_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    io = checkpoint_io.AtomicCheckpointIO()
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)

    def crash(obj: object, file: object) -> None:
        file.write(b"PK\x03\x04 half a checkpoint")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}}, path)
    monkeypatch.undo()
    assert torch.equal(checkpoint_io.load_checkpoint(path)["state_dict"]["w"], torch.ones(3))
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no temp file left


def test_last_skips_a_truncated_newest_checkpoint_and_names_it(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    now = time.time()
    _write(runs / "old" / "checkpoints" / "last.ckpt", 1, now - 100)
    good = _write(runs / "new" / "checkpoints" / "epoch_000.ckpt", 5, now - 10)
    last = _write(runs / "new" / "checkpoints" / "last.ckpt", 9, now)
    last.write_bytes(last.read_bytes()[:200])  # a crash mid-write, without atomic saving
    with pytest.warns(UserWarning, match=f"skipping checkpoint {last}"):
        path, loaded = run_search.resolve_checkpoint("last", runs)
    assert path == good and loaded["global_step"] == 5
    # The run can be named; the run being started is never picked.
    path, _ = run_search.resolve_checkpoint("last", runs, run="old")
    assert path.parent.parent.name == "old"
    path, _ = run_search.resolve_checkpoint("last", runs, exclude=runs / "new")
    assert path.parent.parent.name == "old"


def test_no_valid_checkpoint_is_an_error_never_a_fresh_start(tmp_path: Path) -> None:
    bad = tmp_path / "runs" / "r" / "checkpoints" / "last.ckpt"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning), pytest.raises(ConfigError, match="no valid checkpoint"):
        run_search.resolve_checkpoint("last", tmp_path / "runs")
    with pytest.raises(ConfigError, match="no such file"):
        run_search.resolve_checkpoint(tmp_path / "missing.ckpt", tmp_path / "runs")
    with pytest.raises(ConfigError, match="truncated or corrupt"):
        run_search.resolve_checkpoint(bad, tmp_path / "runs")
    with pytest.raises(ConfigError, match="has none"):
        run_search.resolve_checkpoint("last", tmp_path / "elsewhere")


def test_best_prefers_the_monitored_checkpoint(tmp_path: Path) -> None:
    now = time.time()
    best = _write(tmp_path / "runs" / "r" / "checkpoints" / "epoch_002.ckpt", 3, now - 5)
    _write(tmp_path / "runs" / "r" / "checkpoints" / "last.ckpt", 4, now)
    assert run_search.resolve_checkpoint("best", tmp_path / "runs")[0] == best


def test_record_pack_differences_and_model_class(tmp_path: Path) -> None:
    path = tmp_path / "x.ckpt"
    with pytest.raises(ConfigError, match="not a pegboard checkpoint"):
        ckpt.record_of({"state_dict": {}}, path)
    record = ckpt.record_of(
        {
            CHECKPOINT_KEY: {
                "config": {"model": {"_target_": "pegboard.testing.models.LinearClassifier"}},
                "packs": {"pegboard-core": "0.1.0", "acme": "1.0"},
            }
        },
        path,
    )
    assert ckpt.pack_differences(record.packs, {"pegboard-core": "0.1.0", "acme": "2.0"}) == [
        "acme: checkpoint 1.0, installed 2.0"
    ]
    with pytest.warns(UserWarning, match="other pack versions: acme"):
        ckpt.warn_pack_differences(record, {"pegboard-core": "0.1.0"}, path)
    assert ckpt.model_class(record, path).__name__ == "LinearClassifier"
    with pytest.raises(ConfigError, match=r"model= asks for acme\.Net"):
        ckpt.model_class(record, path, requested="acme.Net")
    record.config["model"]["_target_"] = "torch.nn.Linear"
    with pytest.raises(ConfigError, match=r"not a pegboard\.Model subclass"):
        ckpt.model_class(record, path)


@pytest.mark.parametrize("target", ["os.system", "subprocess.Popen", "evil_module.Net"])
def test_a_checkpoint_cannot_name_a_class_outside_the_allow_list(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported = []
    monkeypatch.setattr(ckpt.importlib, "import_module", lambda name: imported.append(name))
    record = ckpt.Record(config={"model": {"_target_": target}}, packs={})
    with pytest.raises(ConfigError, match=r"model\._target_"):
        ckpt.model_class(record, tmp_path / "x.ckpt")
    assert imported == []  # refused before anything was imported


def _batches(loader: TensorBatchLoader, limit: int | None = None) -> list[torch.Tensor]:
    taken = []
    for inputs, _ in loader:
        taken.append(inputs.clone())
        if limit is not None and len(taken) == limit:
            break
    return taken


def test_loader_resumes_mid_epoch_with_the_same_permutation() -> None:
    data = torch.arange(50).float().unsqueeze(1)
    make = lambda: TensorBatchLoader(data, torch.zeros(50), 8, shuffle=True, seed=3)  # noqa: E731
    straight = make()
    epoch0, epoch1 = _batches(straight), _batches(straight)
    assert not torch.equal(torch.cat(epoch0), torch.cat(epoch1))  # a new shuffle each epoch

    first = make()
    _batches(first)
    taken = _batches(first, limit=3)  # epoch 1, interrupted after three batches
    state = first.state_dict()
    assert state == {"epoch": 1, "batches": 3}
    resumed = make()
    resumed.load_state_dict(state)
    rest = _batches(resumed)
    assert all(torch.equal(a, b) for a, b in zip(taken + rest, epoch1, strict=True))
    assert resumed.state_dict() == {"epoch": 2, "batches": 0}


def test_loader_state_at_an_epoch_boundary_starts_the_next_epoch() -> None:
    data = torch.arange(20).float().unsqueeze(1)
    loader = TensorBatchLoader(data, torch.zeros(20), 5, shuffle=True)
    assert loader.state_dict() == {"epoch": 0, "batches": 0}
    _batches(loader)
    fresh = TensorBatchLoader(data, torch.zeros(20), 5, shuffle=True)
    fresh.load_state_dict({"epoch": 0, "batches": 4})  # all of epoch 0 consumed
    expected = TensorBatchLoader(data, torch.zeros(20), 5, shuffle=True)
    _batches(expected)
    assert torch.equal(torch.cat(_batches(fresh)), torch.cat(_batches(expected)))


def _with_record(path: Path, best: Path, scores: dict[Path, float], mtime: float) -> Path:
    _write(path, 0, mtime)
    state = torch.load(path, weights_only=True)
    key = "ModelCheckpoint{'monitor': 'val/loss', 'mode': 'min'}"
    state["callbacks"] = {
        key: {
            "best_model_path": str(best),
            "best_k_models": {str(p): torch.tensor(s) for p, s in scores.items()},
        }
    }
    torch.save(state, path)
    os.utime(path, (mtime, mtime))
    return path


def test_best_is_what_model_checkpoint_recorded_not_the_newest_epoch(tmp_path: Path) -> None:
    # save_top_k=2: the newest epoch file is the second best; last.ckpt records the best.
    folder = tmp_path / "runs" / "r" / "checkpoints"
    now = time.time()
    best = _write(folder / "epoch_001.ckpt", 1, now - 30)
    second = _write(folder / "epoch_004.ckpt", 4, now - 10)
    _with_record(folder / "last.ckpt", best, {best: 0.2, second: 0.5}, now)
    path, loaded = run_search.resolve_checkpoint("best", tmp_path / "runs")
    assert path == best and loaded["global_step"] == 1
    # A best file that is gone: the next one ModelCheckpoint ranked.
    best.unlink()
    path, _ = run_search.resolve_checkpoint("best", tmp_path / "runs")
    assert path == second


def test_best_ranks_by_score_in_the_monitors_direction(tmp_path: Path) -> None:
    high = {
        "callbacks": {
            "ModelCheckpoint{}": {"best_model_path": "b", "best_k_models": {"a": 0.7, "b": 0.9}}
        }
    }
    low = {
        "callbacks": {
            "ModelCheckpoint{}": {"best_model_path": "a", "best_k_models": {"a": 0.1, "b": 0.4}}
        }
    }
    assert run_search.recorded_best(high) == ["b", "a"]
    assert run_search.recorded_best(low) == ["a", "b"]
    assert run_search.recorded_best({"callbacks": {}}) == []


def test_checkpoints_get_the_umask_mode_not_0600(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "last.ckpt"
        checkpoint_io.AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, path)
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)


def test_partial_writes_of_a_killed_run_are_removed_when_it_is_picked(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "r" / "checkpoints"
    good = _write(folder / "last.ckpt", 3, time.time())
    stray = folder / ".last.ckpt.abc123"
    stray.write_bytes(b"half")
    (folder.parent / "status.json").write_text('{"status": "interrupted"}')
    path, _ = run_search.resolve_checkpoint("last", tmp_path / "runs")
    assert path == good and not stray.exists()
