"""Weights & Biases, offline: `logger=wandb` records the run inside its run folder, no network.

The offline run is read back from the files it leaves (``<run>/wandb/offline-run-*/``), as
``wandb sync`` would upload them: the hyperparameters, one history row per epoch, the
summary. Every HTTP(S) request the run makes, through a proxy or to W&B's API, reaches a
listener of the test and is reported, so "offline" means no request at all, not a slow one.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import QUICK, metrics_of, run_dir_of

if importlib.util.find_spec("wandb") is None:
    pytest.skip("wandb is not installed (pegboard-core[wandb])", allow_module_level=True)

EPOCHS = 3
TRAIN = ["train", "model=mlp", *QUICK, f"trainer.max_epochs={EPOCHS}"]
#: wandb.init's own timeout: a run that waited on the network would take longer than this.
INIT_TIMEOUT_S = 90


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


@pytest.fixture
def network_trap() -> Iterator[tuple[dict[str, str], list[str]]]:
    """Environment that sends any HTTP(S) request to a local listener, and what it received.

    The proxy variables catch every client that honours them (requests, httpx, Go's
    net/http); ``WANDB_BASE_URL`` catches W&B's own API calls whatever their client (an
    online run sends its first ``POST /graphql`` there). Each request is answered 503 at
    once, so a run that tried would be reported, not left hanging.
    """
    received: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    received.append(connection.recv(4096).split(b"\r\n", 1)[0].decode())
                    connection.sendall(b"HTTP/1.1 503 No network\r\nContent-Length: 0\r\n\r\n")
                except OSError as error:
                    received.append(f"<{error}>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    env = {name: url for name in proxies} | {name.lower(): url for name in proxies}
    env |= {"NO_PROXY": "", "no_proxy": "", "WANDB_BASE_URL": url}
    try:
        yield env, received
    finally:
        stop.set()
        thread.join()
        server.close()


def _wandb_env(tmp_path: Path) -> dict[str, str]:
    # wandb's own folders (service logs, settings, artifact staging) default to ~/.cache,
    # ~/.config and ~/.local/share: the test's folder instead, so no state comes or goes.
    return {
        "WANDB_CACHE_DIR": str(tmp_path / "wandb-cache"),
        "WANDB_CONFIG_DIR": str(tmp_path / "wandb-config"),
        "WANDB_DATA_DIR": str(tmp_path / "wandb-data"),
        "WANDB_PROJECT": "pegboard-e2e",
    }


def read_offline_run(run_file: Path) -> list[Any]:
    """The records of a ``.wandb`` transaction log, in order, as wandb's protobufs.

    PRIVATE FORMAT. wandb documents no reader for offline runs: ``wandb sync --view`` and
    ``wandb.sdk.internal.datastore`` are gone from wandb 0.31, and the files under
    ``files/`` hold neither the config, the history nor the summary offline. So this reads
    the format itself: a 7-byte header (``:W&B``, magic ``0xBEE1``, version 0), then
    LevelDB log records (32 KiB blocks; each record a CRC-32 of its type and data, a
    length and a type: full, first, middle, last) whose payloads are
    ``wandb.proto.wandb_internal_pb2.Record`` messages. Any change of the format must make
    the test fail here, loudly, never skip: every check below is an assertion.

    Args:
        run_file: The ``run-<id>.wandb`` file of an offline run.
    """
    from wandb.proto import wandb_internal_pb2

    block, header = 32768, 7
    data = run_file.read_bytes()
    assert struct.unpack("<4sHB", data[:header]) == (b":W&B", 0xBEE1, 0), data[:header]
    records, pending, position = [], b"", header
    while position + header <= len(data):
        left = block - position % block
        if left < header:  # a block's trailer: zeros, no record starts there
            position += left
            continue
        checksum, length, kind = struct.unpack("<IHB", data[position : position + header])
        payload = data[position + header : position + header + length]
        assert kind in (1, 2, 3, 4), f"{run_file}: record type {kind} at byte {position}"
        assert zlib.crc32(bytes([kind]) + payload) == checksum, f"{run_file}: byte {position}"
        position += header + length
        pending += payload
        if kind in (1, 4):  # full, or the last piece of a split record
            records.append(wandb_internal_pb2.Record.FromString(pending))
            pending = b""
    assert position == len(data) and not pending, f"{run_file}: truncated at byte {position}"
    return records


def _items(items: Any) -> dict[str, Any]:
    # wandb-core names a key in `nested_key` (["val/acc"]; ["_wandb", "runtime"] is nested).
    return {item.key or ".".join(item.nested_key): json.loads(item.value_json) for item in items}


def _offline_run(run_dir: Path) -> dict[str, Any]:
    """The run record, config, history rows, summary and exit of a run's only W&B run."""
    folders = sorted((run_dir / "wandb").glob("offline-run-*"))
    assert len(folders) == 1, folders
    (run_file,) = folders[0].glob("run-*.wandb")
    found: dict[str, Any] = {"folder": folders[0], "config": {}, "history": [], "summary": {}}
    for record in read_offline_run(run_file):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            found["run"] = record.run
        elif kind == "config":
            found["config"].update(_items(record.config.update))
        elif kind == "history":
            found["history"].append(_items(record.history.item))
        elif kind == "summary":
            found["summary"].update(_items(record.summary.update))
        elif kind == "exit":
            found["exit"] = record.exit
    assert {"run", "exit"} <= set(found), f"{run_file}: no run or no exit record"
    return found


def _csv_epochs(run_dir: Path, metric: str) -> list[float]:
    with (run_dir / "csv" / "metrics.csv").open() as rows:
        return [float(row[metric]) for row in csv.DictReader(rows) if row.get(metric)]


def test_an_offline_run_records_config_history_and_summary(
    run_pegboard, tmp_path: Path, network_trap
) -> None:
    trap, requests = network_trap
    started = time.monotonic()
    result = _ok(
        run_pegboard(
            *TRAIN,
            "logger=[csv,wandb]",
            "tags=[e2e,offline]",
            env={**_wandb_env(tmp_path), **trap},
        )
    )
    seconds = time.monotonic() - started
    assert requests == [], f"the offline run made network requests: {requests}"
    assert seconds < INIT_TIMEOUT_S, f"the run took {seconds:.0f} s: waiting on the network?"

    run_dir = run_dir_of(result)
    metrics = metrics_of(run_dir)
    wandb = _offline_run(run_dir)
    assert not (tmp_path / "wandb").exists()  # in the run folder, not the working directory
    assert wandb["exit"].exit_code == 0
    run = wandb["run"]
    assert run.project == "pegboard-e2e"  # WANDB_PROJECT, over the config's default
    assert (run.job_type, list(run.tags)) == ("train", ["e2e", "offline"])
    assert run.display_name == run_dir.name

    # The run folder's files, for `wandb sync` to upload: config, metrics, plots, checkpoint.
    files = wandb["folder"] / "files"
    for name in ("config.yaml", "packs.json", "metrics.json", "learning_curves.png"):
        assert (files / name).read_bytes() == (run_dir / name).read_bytes(), name
    assert [path.suffix for path in (files / "checkpoints").iterdir()] == [".ckpt"]

    # The hyperparameters pegboard logs: the resolved model, data and trainer configs...
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    config = wandb["config"]
    for group in ("model", "data", "trainer"):
        assert config[group] == resolved[group], group
    assert config["trainer"]["max_epochs"] == EPOCHS
    assert (config["seed"], config["tags"]) == (resolved["seed"], ["e2e", "offline"])
    assert config["packs"] == json.loads((run_dir / "packs.json").read_text())

    # ...one history row per epoch for each epoch metric, the values the run folder holds...
    history = wandb["history"]
    for metric in ("val/acc", "val/loss", "train/acc", "train/loss"):
        rows = [row for row in history if metric in row]
        assert [row["epoch"] for row in rows] == list(range(EPOCHS)), metric
        assert [row[metric] for row in rows] == _csv_epochs(run_dir, metric), metric
        assert rows[-1][metric] == metrics[metric], metric
    (tested,) = [row for row in history if "test/acc" in row]
    assert (tested["test/acc"], tested["test/loss"]) == (metrics["test/acc"], metrics["test/loss"])

    # ...and a summary of the last values, as the W&B run table shows them once synced.
    for metric, value in metrics.items():
        assert wandb["summary"][metric] == value, metric


def test_each_job_of_a_multirun_gets_its_own_wandb_run(run_pegboard, tmp_path: Path) -> None:
    # W&B keeps one run per process: without finishing it, job 1 wrote into job 0's run.
    quick = ["+trainer.limit_train_batches=2", "+trainer.limit_val_batches=1", "test=false"]
    result = _ok(
        run_pegboard(
            "train", "-m", "model=mlp", "logger=wandb", "seed=1,2", "plots=false",
            *QUICK, *quick, env=_wandb_env(tmp_path),
        )
    )  # fmt: skip
    assert "already in progress" not in result.stdout + result.stderr
    (sweep,) = (tmp_path / "logs" / "train" / "multiruns").iterdir()
    runs = [_offline_run(sweep / job) for job in ("0", "1")]
    assert [wandb["config"]["seed"] for wandb in runs] == [1, 2]
    assert runs[0]["run"].run_id != runs[1]["run"].run_id


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (("train", "--help"), "logger"),
        (("train", "logger=[csv,wandb]", "--cfg", "job"), "pytorch_lightning.loggers.WandbLogger"),
    ],
)
def test_fast_paths_do_not_import_wandb(args: tuple[str, ...], printed: str) -> None:
    code = (
        "import sys\nfrom pegboard_launcher.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "print('HEAVY=' + ','.join(m for m in ('wandb', 'torch', 'pytorch_lightning') "
        "if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert printed in result.stdout
    assert result.stdout.rsplit("HEAVY=", 1)[1].strip() == ""
