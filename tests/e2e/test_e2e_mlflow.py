"""MLflow for real: a SQLite store, a tracking server, the model registry.

Every run is read back with ``MlflowClient``, as a team browsing its runs would see it.
The server test needs MLflow's full server, whose pins clash with the packs' (pyarrow,
SQLAlchemy): nox's ``integration`` session installs it in a venv of its own and names its
``mlflow`` command in ``PEGBOARD_TEST_MLFLOW_SERVER``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import QUICK, free_port, metrics_of, run_dir_of

pytest.importorskip("mlflow", reason="logger=mlflow needs pegboard-core[mlflow]")
from mlflow.tracking import MlflowClient

SERVER_ENV = "PEGBOARD_TEST_MLFLOW_SERVER"
TRAIN = ["model=mlp", *QUICK]
STAGE = ["trainer.enable_progress_bar=false"]


def _only_run(client: MlflowClient, experiment: str) -> object:
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r}"
    runs = client.search_runs([found.experiment_id])
    assert len(runs) == 1, [run.info.run_name for run in runs]
    return runs[0]


def _check_tracked_run(client: MlflowClient, run_dir: Path) -> str:
    """The training run as MLflow holds it: params, per-epoch metrics, tags, artifacts."""
    run = _only_run(client, "train")
    run_id = run.info.run_id
    metrics = metrics_of(run_dir)
    assert run.info.run_name == run_dir.name
    assert run.info.status == "FINISHED"
    assert run.data.params["trainer/max_epochs"] == "2"
    assert run.data.params["model/_target_"] == "pegboard_models_vision.mlp.MLP"
    assert run.data.tags["pegboard.command"] == "train"
    assert run.data.tags["pegboard.run_dir"] == str(run_dir.resolve())
    assert run.data.tags["pegboard.tags"] == "tracked"
    history = client.get_metric_history(run_id, "val/acc")
    assert len(history) == 2  # one value per epoch
    assert history[-1].value == pytest.approx(metrics["val/acc"], abs=1e-6)
    assert run.data.metrics["test/acc"] == pytest.approx(metrics["test/acc"], abs=1e-6)
    top = {item.path for item in client.list_artifacts(run_id)}
    assert {"config.yaml", "packs.json", "metrics.json", "plots", "checkpoints"} <= top
    plots = {Path(item.path).name for item in client.list_artifacts(run_id, "plots")}
    assert "confusion_matrix.png" in plots
    (checkpoint,) = client.list_artifacts(run_id, "checkpoints")
    assert checkpoint.path.endswith(".ckpt") and checkpoint.file_size > 0
    config = client.download_artifacts(run_id, "config.yaml", str(run_dir.parent))
    assert Path(config).read_text() == (run_dir / "config.yaml").read_text()
    return run_id


def test_a_run_tracked_in_the_sqlite_store_is_registered_and_served_back(
    run_pegboard, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    trained = run_pegboard("train", "logger=mlflow", "tags=[tracked]", *TRAIN)
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_dir = run_dir_of(trained)
    # One store beside all runs, its artifacts beside it: nothing in the working folder.
    assert (logs / "mlflow.db").is_file() and (logs / "mlartifacts").is_dir()
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()
    client = MlflowClient(f"sqlite:///{logs}/mlflow.db")
    _check_tracked_run(client, run_dir)

    exported = run_pegboard("export", "ckpt_path=best", "format=onnx", "register=digits-mlp")
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert "Registered models:/digits-mlp/1" in exported.stdout
    registered = client.get_model_version("digits-mlp", "1")
    assert registered.tags["pegboard.format"] == "onnx"
    assert registered.tags["pack.pegboard-models-vision"]
    files = {Path(item.path).name for item in client.list_artifacts(registered.run_id, "model")}
    assert files == {"model.onnx", "model.onnx.json", "packs.json", "model.ckpt"}

    # The registered checkpoint is the best one: its test accuracy is the run's.
    evaluated = run_pegboard("eval", "ckpt_path=models:/digits-mlp/1", *STAGE)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert metrics_of(run_dir_of(evaluated))["test/acc"] == metrics_of(run_dir)["test/acc"]
    predicted = run_pegboard("predict", "ckpt_path=models:/digits-mlp/latest", *STAGE)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    assert (run_dir_of(predicted) / "predictions.csv").is_file()

    unknown = run_pegboard("eval", "ckpt_path=models:/digits-cnn/1")
    assert unknown.returncode != 0
    last = unknown.stderr.strip().splitlines()[-1]
    assert "no model 'digits-cnn' is registered" in last and "registered: digits-mlp" in last


def test_an_unreachable_tracking_server_stops_the_run_before_training(
    run_pegboard, tmp_path: Path
) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run_pegboard("train", "logger=mlflow", f"paths.tracking_uri={uri}", *TRAIN)
    assert time.monotonic() - started < 60
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert f"{uri}: the MLflow tracking server does not answer" in last
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "logs" / "train").exists()  # found before the run folder


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """A real ``mlflow server`` on localhost, with its own store and artifact folder."""
    command = os.environ.get(SERVER_ENV)
    if not command:
        pytest.skip(f"{SERVER_ENV} names no mlflow command (nox's integration session sets it)")
    port = free_port()
    server = subprocess.Popen(
        [command, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path}/server.db",
         "--artifacts-destination", str(tmp_path / "server-artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        # Its background job workers (GenAI evaluation) are not needed: 2 cores are shared.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start (exit {server.poll()})")
                time.sleep(0.5)
        yield uri
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_a_run_on_a_tracking_server_is_read_back_and_its_model_served(
    run_pegboard, mlflow_server: str
) -> None:
    server = f"paths.tracking_uri={mlflow_server}"
    trained = run_pegboard("train", "logger=mlflow", "tags=[tracked]", server, *TRAIN)
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_dir = run_dir_of(trained)
    _check_tracked_run(MlflowClient(mlflow_server), run_dir)
    exported = run_pegboard("export", "ckpt_path=best", "format=onnx", "register=digits", server)
    assert "Registered models:/digits/1" in exported.stdout, exported.stderr[-3000:]
    served = run_pegboard("eval", "ckpt_path=models:/digits/1", server, *STAGE)
    assert served.returncode == 0, served.stderr[-3000:]
    assert metrics_of(run_dir_of(served))["test/acc"] == metrics_of(run_dir)["test/acc"]


def test_runs_started_together_on_a_new_store_all_start(tmp_path: Path) -> None:
    # Each would create the new database's tables and the experiment; one does, the
    # others wait for it (without the lock, all but one failed: "duplicate column").
    uri = f"sqlite:///{tmp_path}/logs/mlflow.db"
    code = (
        "import sys; from pegboard.runner.mlflow_store import open_store; open_store(*sys.argv[1:])"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", code, uri, "train"], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    failures = [p.stderr.read().decode()[-500:] for p in starts if p.wait(timeout=120) != 0]
    assert not failures, failures
    client = MlflowClient(uri)
    assert [e.name for e in client.search_experiments()] == ["train", "Default"]
