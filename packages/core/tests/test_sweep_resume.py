"""Resumable Optuna sweeps: which sweep a rerun continues, and how its study goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf

from pegboard.runner import optuna_resume
from pegboard.runner.optuna_resume import (
    DEFAULT_STORAGE,
    OPTUNA_SWEEPER,
    RECORD_FILE,
    begin_sweep,
    continue_study,
    finish_sweep,
    keep_study_where_it_works,
    sweep_identity,
    sweep_to_continue,
)
from pegboard.runner.rundir import STATUS_FILE, UniqueRunDir
from pegboard.runner.sweep import literal, next_job_number, pin_for_jobs

TASK = ["hparams_search=digits_optuna", "model=mlp", "trainer.max_epochs=1"]


def _config(sweep_dir: Path, task: list[str] | None = None, **top: Any) -> DictConfig:
    """A multirun config as Hydra hands it to ``on_multirun_start``."""
    config = OmegaConf.create(
        {
            "seed": 42,
            **top,
            "hydra": {
                "sweeper": {
                    "_target_": OPTUNA_SWEEPER,
                    "storage": DEFAULT_STORAGE,
                    "study_name": "digits_optuna",
                    "n_trials": 4,
                    "sampler": {"_target_": "optuna.samplers.TPESampler", "seed": "${seed}"},
                },
                "sweep": {"dir": str(sweep_dir), "subdir": "${hydra.job.num}"},
                "overrides": {"task": list(task or TASK), "hydra": []},
                "job": {"config_name": "train"},
            },
        }
    )
    OmegaConf.set_readonly(config.hydra, True)  # as Hydra leaves it
    return config


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _record(folder: Path, config: DictConfig, status: str, started: float, pid: int) -> Path:
    folder.mkdir(parents=True)
    (folder / RECORD_FILE).write_text(json.dumps({"command": sweep_identity(config)}))
    payload = {"status": status, "started": started, "pid": pid, "host": os.uname().nodename}
    (folder / STATUS_FILE).write_text(json.dumps(payload))
    return folder


# --- which sweep a rerun continues ---------------------------------------------------------


def test_the_same_command_is_the_same_sweep_in_any_order_and_mode(tmp_path: Path) -> None:
    one = _config(tmp_path / "a", TASK)
    two = _config(tmp_path / "b", [*reversed(TASK), "sweep_resume=true"])
    with_mode = _config(tmp_path / "c", TASK)
    OmegaConf.set_readonly(with_mode.hydra, False)
    with_mode.hydra.overrides.hydra = ["hydra.mode=MULTIRUN"]
    assert sweep_identity(one) == sweep_identity(two) == sweep_identity(with_mode)
    assert sweep_identity(one) != sweep_identity(_config(tmp_path, [*TASK, "seed=2"]))


def test_a_rerun_continues_the_newest_unfinished_sweep_of_its_command(tmp_path: Path) -> None:
    config = _config(tmp_path / "multiruns" / "2030-01-01_00-00-00")
    other = _config(tmp_path, [*TASK, "seed=7"])
    root = tmp_path / "multiruns"
    oldest = _record(root / "old_crash", config, "running", 1.0, _dead_pid())
    newest = _record(root / "new_crash", config, "running", 3.0, _dead_pid())
    _record(root / "finished", config, "completed", 4.0, _dead_pid())
    _record(root / "alive", config, "running", 5.0, os.getppid())  # its process still runs
    _record(root / "other_command", other, "running", 6.0, _dead_pid())
    assert sweep_to_continue(config) == newest
    # Claimed: a second rerun started at the same moment does not continue it too.
    assert sweep_to_continue(config) == oldest
    assert sweep_to_continue(config) is None


def test_no_sweep_is_continued_when_opted_out_or_not_resumable(tmp_path: Path) -> None:
    config = _config(tmp_path / "multiruns" / "now")
    _record(tmp_path / "multiruns" / "crashed", config, "running", 1.0, _dead_pid())
    assert sweep_to_continue(config) is not None
    assert sweep_to_continue(_config(tmp_path / "multiruns" / "now", sweep_resume=False)) is None
    in_memory = _config(tmp_path / "multiruns" / "now")
    OmegaConf.set_readonly(in_memory.hydra, False)
    in_memory.hydra.sweeper.storage = None  # Hydra's default: nothing outlives the process
    assert sweep_to_continue(in_memory) is None
    basic = _config(tmp_path / "multiruns" / "now")
    OmegaConf.set_readonly(basic.hydra, False)
    basic.hydra.sweeper = {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"}
    assert sweep_to_continue(basic) is None


def test_a_new_sweep_is_recorded_and_marked_completed_at_its_end(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    config = _config(sweep)
    begin_sweep(config, None)
    assert json.loads((sweep / RECORD_FILE).read_text())["command"] == sweep_identity(config)
    assert json.loads((sweep / STATUS_FILE).read_text())["status"] == "running"
    finish_sweep(sweep)
    assert json.loads((sweep / STATUS_FILE).read_text())["status"] == "completed"
    finish_sweep(tmp_path)  # an unrecorded folder (basic sweeper) gets no status
    assert not (tmp_path / STATUS_FILE).exists()


# --- the study and the config of a continued sweep ------------------------------------------


def _study_with(n_complete: int, running: bool) -> Any:
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import UniformDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="digits_optuna", direction="maximize")
    space = {"lr": UniformDistribution(0.0, 1.0)}
    for _ in range(n_complete):
        trial = study.ask(space)
        study.tell(trial, trial.params["lr"])
    if running:
        study.ask(space)  # left running by a sweep that died
    return study


def test_an_interrupted_trial_fails_and_its_parameters_are_asked_again() -> None:
    from optuna.trial import TrialState

    study = _study_with(2, running=True)
    interrupted = study.trials[2].params
    done, found = continue_study(study, [])
    assert (done, found) == (2, [2])
    assert study.trials[2].state == TrialState.FAIL
    assert study.ask().params == {} and study.trials[3].system_attrs["fixed_params"] == interrupted
    # Found again later (failed, no longer running), it still does not count as done.
    assert continue_study(study, [2]) == (2, [3])


def test_begin_sweep_continues_the_study_after_the_earlier_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import optuna

    study = _study_with(2, running=True)
    monkeypatch.setattr(optuna, "load_study", lambda study_name, storage: study)
    sweep = tmp_path / "sweep"
    for job in ("0", "1", "2"):
        (sweep / job).mkdir(parents=True)
    (sweep / RECORD_FILE).write_text(json.dumps({"attempts": 1, "interrupted_trials": []}))
    config = _config(sweep)
    begin_sweep(config, sweep)
    sweeper = config.hydra.sweeper
    assert sweeper.n_trials == 2  # 4 asked, 2 done: the interrupted one runs again
    assert sweeper.sampler.seed == 42 + 4  # the study's 3 trials and the one enqueued
    subdir = "${pegboard.job_folder:${hydra.job.num},3}"
    assert OmegaConf.to_container(config.hydra.sweep)["subdir"] == subdir  # type: ignore[index]
    overrides = OmegaConf.to_container(config.hydra.overrides, resolve=False)
    assert overrides["hydra"][-1] == f"hydra.sweep.subdir='{subdir}'"  # type: ignore[index]
    job = OmegaConf.create(OmegaConf.to_container(config, resolve=False))
    job.hydra.job.num = 0  # the first job of this attempt
    assert job.hydra.sweep.subdir == "3"  # job 0 of this attempt goes to folder 3
    record = json.loads((sweep / RECORD_FILE).read_text())
    assert record["attempts"] == 2 and record["interrupted_trials"] == [2]
    assert capsys.readouterr().out == (
        f"Continuing sweep {sweep}: 2 of 4 trials done; interrupted trial 2 runs again\n"
    )


def test_on_multirun_start_reuses_the_folder_and_tells_the_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optuna

    monkeypatch.setattr(optuna_resume, "rdb_storage_problem", lambda: None)
    monkeypatch.setattr(optuna, "load_study", lambda study_name, storage: _study_with(3, False))
    config = _config(tmp_path / "multiruns" / "now")
    crashed = _record(tmp_path / "multiruns" / "crashed", config, "running", 1.0, _dead_pid())
    UniqueRunDir().on_multirun_start(config)
    assert config.hydra.sweep.dir == str(crashed)
    assert f"hydra.sweep.dir='{crashed}'" in config.hydra.overrides.hydra
    assert config.hydra.sweeper.storage == f"sqlite:///{crashed}/optuna.db"
    assert config.hydra.sweeper.n_trials == 1
    assert not (tmp_path / "multiruns" / "now").exists()  # no new folder is claimed


def test_a_moved_sweep_folder_reaches_the_jobs(tmp_path: Path) -> None:
    (tmp_path / "sweep").mkdir()
    config = _config(tmp_path / "sweep")
    OmegaConf.set_readonly(config.hydra, False)
    config.hydra.sweeper = {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"}
    UniqueRunDir().on_multirun_start(config)
    assert config.hydra.sweep.dir == str(tmp_path / "sweep_1")
    assert config.hydra.overrides.hydra[-1] == f"hydra.sweep.dir='{tmp_path / 'sweep_1'}'"


def test_next_job_number_follows_the_highest_job_folder(tmp_path: Path) -> None:
    assert next_job_number(tmp_path) == 0
    for name in ("0", "1", "10", "summary.csv", ".hydra"):
        (tmp_path / name).mkdir()
    assert next_job_number(tmp_path) == 11


@pytest.mark.parametrize(
    "folder", ["/logs/2030-01-01_00-00-00", "/a b/c,d=e", "/it's", "/x/${y}", "/ends\\"]
)
def test_a_pinned_folder_reads_back_the_same_through_hydras_override_parser(
    folder: str,
) -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    config = OmegaConf.create({"hydra": {"sweep": {"dir": "x"}, "overrides": {"hydra": []}}})
    pin_for_jobs(config, "hydra.sweep.dir", literal(folder))
    # Hydra reads the overrides unresolved (ConfigLoader.load_sweep_config).
    overrides: Any = OmegaConf.to_container(config.hydra.overrides, resolve=False)
    override = OverridesParser.create().parse_override(overrides["hydra"][0])
    parsed = OmegaConf.create({"dir": override.value()})
    assert parsed.dir == config.hydra.sweep.dir == folder


def test_the_job_folder_resolver_is_registered_by_the_callback_module() -> None:
    code = (
        "import pegboard.runner.sweep\nfrom omegaconf import OmegaConf\n"
        "print(OmegaConf.create({'n': 2, 'd': '${pegboard.job_folder:${n},3}'}).d)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "5", result.stderr


# --- the default storage, where Optuna's SQL storage cannot work ---------------------------


def test_the_default_storage_stays_in_memory_where_sqlalchemy_breaks_optuna(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = {"optuna": "2.10.1", "sqlalchemy": "2.1.9"}
    monkeypatch.setattr(optuna_resume, "version", versions.__getitem__)
    config = _config(tmp_path)
    keep_study_where_it_works(config)
    assert config.hydra.sweeper.storage is None
    assert "needs SQLAlchemy<2 (installed: 2.1.9)" in capsys.readouterr().out
    theirs = _config(tmp_path)
    OmegaConf.set_readonly(theirs.hydra, False)
    theirs.hydra.sweeper.storage = "sqlite:///studies.db"  # a user's setting stays theirs
    keep_study_where_it_works(theirs)
    assert theirs.hydra.sweeper.storage == "sqlite:///studies.db"
    versions["sqlalchemy"] = "1.4.54"
    assert optuna_resume.rdb_storage_problem() is None


# --- what pegboard relies on in Hydra's Optuna sweeper --------------------------------------


class _Launcher:
    """Stands for Hydra's launcher: records each launch and returns the lr as the value."""

    def __init__(self) -> None:
        self.launches: list[tuple[int, list[tuple[str, ...]]]] = []

    def launch(self, job_overrides: Any, initial_job_idx: int) -> list[Any]:
        from hydra.core.utils import JobReturn, JobStatus

        self.launches.append((initial_job_idx, [tuple(o) for o in job_overrides]))
        returns = []
        for overrides in job_overrides:
            ret = JobReturn(status=JobStatus.COMPLETED)
            ret.return_value = float(dict(o.split("=", 1) for o in overrides)["lr"])
            returns.append(ret)
        return returns


def _sweep_once(storage: Any, sweep_dir: Path, n_trials: int) -> _Launcher:
    impl = pytest.importorskip("hydra_plugins.hydra_optuna_sweeper._impl")
    import optuna

    sweeper = impl.OptunaSweeperImpl(
        sampler=optuna.samplers.RandomSampler(seed=0),
        direction="maximize",
        storage=storage,
        study_name="digits_optuna",
        n_trials=n_trials,
        n_jobs=1,
        max_failure_rate=0.0,
        search_space=None,
        custom_search_space=None,
        params=OmegaConf.create({"lr": "interval(0.0, 1.0)"}),
    )
    launcher = _Launcher()
    # What setup() leaves (it builds the launcher from the config): jobs numbered from 0.
    sweeper.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    sweeper.hydra_context, sweeper.launcher, sweeper.job_idx = object(), launcher, 0
    sweeper.sweep([])
    return launcher


def test_hydras_optuna_sweeper_continues_a_stored_study_as_pegboard_expects(
    tmp_path: Path,
) -> None:
    """A loaded study keeps its trials, ``n_trials`` more run, enqueued ones first."""
    optuna = pytest.importorskip("optuna")
    from optuna.trial import TrialState

    storage = optuna.storages.InMemoryStorage()  # the same object: a study kept between runs
    first = _sweep_once(storage, tmp_path, n_trials=2)
    assert [idx for idx, _ in first.launches] == [0, 1]
    study = optuna.load_study(study_name="digits_optuna", storage=storage)
    study.ask({"lr": optuna.distributions.UniformDistribution(0.0, 1.0)})  # died running
    assert continue_study(study, []) == (2, [2])
    again = study.trials[2].params["lr"]

    second = _sweep_once(storage, tmp_path, n_trials=2)
    # Jobs are numbered from 0 again (pegboard moves their folders), the interrupted
    # trial's parameters come first, and exactly n_trials more trials run.
    assert [idx for idx, _ in second.launches] == [0, 1]
    assert second.launches[0][1] == [(f"lr={again}",)]
    states = [trial.state for trial in study.get_trials(deepcopy=False)]
    assert states.count(TrialState.COMPLETE) == 4 and len(states) == 5
    best = OmegaConf.load(tmp_path / "optimization_results.yaml")
    assert best.best_value == max(t.value for t in study.trials if t.value is not None)
