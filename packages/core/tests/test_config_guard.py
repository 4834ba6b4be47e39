"""The whole-config check: Hydra's logging, environment, launcher and sweeper nodes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from pegboard.config_guard import (
    SHELL_ENV,
    check_config,
    check_environment,
    check_launcher,
    check_logging,
    plain_name,
)
from pegboard.errors import ConfigError
from pegboard.safe_pickle import load_data_pickle

HYDRA_DEFAULT_LOGGING = {
    "version": 1,
    "formatters": {"simple": {"format": "[%(asctime)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        "file": {
            "class": "logging.FileHandler",
            "filename": "${hydra.runtime.output_dir}/${hydra.job.name}.log",
        },
    },
    "root": {"level": "INFO", "handlers": ["console", "file"]},
}


def test_hydras_own_logging_config_passes() -> None:
    check_logging(HYDRA_DEFAULT_LOGGING, "hydra.job_logging", job_name="train")
    colorlog = {"formatters": {"c": {"()": "colorlog.ColoredFormatter", "format": "%(x)s"}}}
    check_logging(colorlog, "hydra.hydra_logging")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"handlers": {"h": {"class": "logging.handlers.SocketHandler"}}}, "logging configs"),
        ({"handlers": {"h": {"()": "os.system", "command": "x"}}}, "'os.system' is refused"),
        ({"handlers": {"h": {"class": "logging.FileHandler", ".": {"x": 1}}}}, "sets attributes"),
        ({"handlers": {"h": {"stream": "ext://subprocess.run"}}}, "ext://sys.stdout"),
        ({"handlers": {"h": {"class": "logging.FileHandler", "filename": "x.log"}}}, "run dir"),
        (
            {"handlers": {"h": {"filename": "${hydra.runtime.output_dir}/../../x.log"}}},
            "plain name inside the run directory",
        ),
    ],
)
def test_logging_that_runs_code_or_writes_elsewhere_is_refused(change, message) -> None:
    with pytest.raises(ConfigError, match=message):
        check_logging({**HYDRA_DEFAULT_LOGGING, **change}, "hydra.job_logging", "train")


def test_a_job_name_that_climbs_out_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"hydra\.job\.name='\.\./x' must be a plain file name"):
        check_config({"hydra": {"job": {}}}, job_name="../x")


@pytest.mark.parametrize("name", ["LD_PRELOAD", "PYTHONPATH", "PATH", "PEGBOARD_ALLOW_TARGETS"])
def test_code_loading_environment_variables_are_refused(name) -> None:
    with pytest.raises(ConfigError, match=f"hydra.job.env_set.{name} is refused"):
        check_environment({name: "x"})
    check_environment({"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "0"})


def test_launcher_shell_lines_need_an_explicit_opt_in(monkeypatch) -> None:
    monkeypatch.delenv(SHELL_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"set {SHELL_ENV}=1"):
        check_launcher({"setup": ["module load cuda"]})
    with pytest.raises(ConfigError, match="line break"):
        check_launcher({"partition": "gpu\nrm -rf ~"})
    monkeypatch.setenv(SHELL_ENV, "1")
    check_launcher({"setup": ["module load cuda"]})
    with pytest.raises(ConfigError, match="line break"):
        check_launcher({"comment": "a\nb"})


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b"])
def test_file_names_stay_plain(name) -> None:
    with pytest.raises(ConfigError, match="must be a plain file name"):
        plain_name(name, "name")
    assert plain_name("model-v2", "name") == "model-v2"


class _Hostile:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_a_data_pickle_naming_a_function_is_refused_before_import(tmp_path: Path) -> None:
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": _Hostile()}))
    with pytest.raises(ConfigError, match=r"not a readable data file: it names posix\.system"):
        load_data_pickle(path)
    path.write_bytes(pickle.dumps({"labels": [1, 2], "name": "ok"}))
    assert load_data_pickle(path) == {"labels": [1, 2], "name": "ok"}
