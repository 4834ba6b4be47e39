"""Resumable Optuna sweeps: the same command, run again after an interruption, continues.

An Optuna sweep keeps its study in ``optuna.db`` in its multirun folder
(``hydra.sweeper.storage``); beside it pegboard records the command (``sweep.json``) and
whether the sweep finished (``status.json``: ``running``, then ``completed``; ``crashed``
once its process is gone). A new multirun of the same command (primary config and
overrides, in any order, ``hydra.mode`` and ``sweep_resume`` aside) under the same parent
folder continues the newest such sweep that did not finish and whose process is gone:

* the study's finished trials (complete, pruned, failed on their own) are done; Hydra's
  sweeper runs ``n_trials`` minus those. A trial left running is marked failed (it has
  no result) and its parameters are asked again, first;
* job folders continue the numbering (``hydra.sweep.subdir``), and a seeded sampler's seed
  moves by the number of trials, so that it does not suggest the same points again.

``sweep_resume=false`` starts a new sweep. The sweeper is steered only through its public
config (``storage``, ``study_name``, ``n_trials``, ``sampler.seed``) and the study through
Optuna's public API: nothing here imports the Hydra plugin. What this relies on in it
(``load_if_exists=True``, exactly ``n_trials`` more trials from ``study.ask()``, jobs
numbered from 0) is checked by ``tests/test_sweep_resume.py``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, read_write

from pegboard.runner.rundir import STATUS_FILE, read_json_object, read_status

#: The Optuna sweeper, as ``hydra.sweeper._target_`` names it.
OPTUNA_SWEEPER = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
#: ``hydra.sweeper.storage`` of pegboard's search configs: one database per sweep folder.
DEFAULT_STORAGE = "sqlite:///${hydra.sweep.dir}/optuna.db"
#: The command that started a sweep, and its interrupted trials.
RECORD_FILE = "sweep.json"
#: Config key: false starts a new sweep even when an unfinished one of the command exists.
RESUME_KEY = "sweep_resume"
#: Overrides that do not make another sweep: how it was started, and the opt-out itself.
_NOT_IDENTITY = ("hydra.mode=", *(f"{p}{RESUME_KEY}=" for p in ("", "+", "++", "~")))


def rdb_storage_problem() -> str | None:
    """Why Optuna's SQL storage cannot work in this environment, or ``None``.

    Optuna before 3.1 (Hydra's Optuna sweeper needs Optuna 2) fails on SQLAlchemy 2.
    """
    try:
        optuna, sqlalchemy = version("optuna"), version("sqlalchemy")
    except PackageNotFoundError:
        return None
    if _release(optuna) < (3, 1) and _release(sqlalchemy) >= (2,):
        return f"Optuna {optuna}'s SQL storage needs SQLAlchemy<2 (installed: {sqlalchemy})"
    return None


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(re.sub(r"\D.*", "", part) or 0) for part in text.split(".")[:2])


def _unresolved(node: DictConfig, key: str) -> Any:
    # As written in the config: the default storage is compared before it is resolved.
    raw: Any = OmegaConf.to_container(node, resolve=False)
    return raw.get(key)


def _optuna_sweeper(config: DictConfig) -> DictConfig | None:
    sweeper = config.hydra.get("sweeper")
    if isinstance(sweeper, DictConfig) and sweeper.get("_target_") == OPTUNA_SWEEPER:
        return sweeper
    return None


def keep_study_where_it_works(config: DictConfig) -> None:
    """Keep the study in memory when pegboard's default SQLite storage cannot work here.

    A storage a user set is theirs: only the default (``DEFAULT_STORAGE``) is dropped.

    Args:
        config: The multirun's config, in the launching process.
    """
    sweeper = _optuna_sweeper(config)
    if sweeper is None or _unresolved(sweeper, "storage") != DEFAULT_STORAGE:
        return
    problem = rdb_storage_problem()
    if problem:
        with read_write(sweeper):
            sweeper.storage = None
        print(
            f"The study stays in memory, so this sweep cannot be resumed: {problem} "
            '(pip install "sqlalchemy<2" "alembic<1.14")'
        )


def _resumable(config: DictConfig) -> bool:
    # Only a study kept outside the process, under a name found again, can be continued.
    sweeper = _optuna_sweeper(config)
    return (
        sweeper is not None
        and isinstance(sweeper.get("storage"), str)
        and bool(sweeper.get("study_name"))
    )


def sweep_identity(config: DictConfig) -> dict[str, Any]:
    """What makes two multiruns the same sweep: the primary config and the overrides.

    Args:
        config: The multirun's config.
    """
    # Unresolved: an override's value may hold an interpolation (hydra.sweep.subdir=...).
    overrides: Any = OmegaConf.to_container(config.hydra.overrides, resolve=False)

    def kept(items: list[str]) -> list[str]:
        return sorted(str(item) for item in items if not str(item).startswith(_NOT_IDENTITY))

    return {
        "config_name": str(config.hydra.job.config_name),
        "overrides": kept(overrides.get("task") or []),
        "hydra_overrides": kept(overrides.get("hydra") or []),
    }


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)  # atomic: a reader never sees half a file


def _claim(folder: Path, attempt: int) -> bool:
    # One file per attempt, created only if absent: of two reruns started together, one
    # continues the sweep and the other starts a new one.
    try:
        (folder / f".attempt-{attempt}").open("x").close()
    except FileExistsError:
        return False
    return True


def sweep_to_continue(config: DictConfig) -> Path | None:
    """The newest unfinished sweep of this command, beside the folder Hydra would claim.

    The sweep is claimed for this process (one rerun at a time continues it).

    Args:
        config: The multirun's config, in the launching process.

    Returns:
        Its folder, or ``None``: resuming is off, not possible, or nothing to continue.
    """
    if not _resumable(config) or not config.get(RESUME_KEY, True):
        return None
    parent = Path(str(config.hydra.sweep.dir)).parent
    identity = sweep_identity(config)
    found: list[tuple[float, str, int]] = []
    for folder in parent.iterdir() if parent.is_dir() else ():
        record = read_json_object(folder / RECORD_FILE)
        status = read_status(folder)
        # running: alive on this host, or on another host that cannot be asked.
        if record.get("command") != identity or status["status"] in ("completed", "running"):
            continue
        attempts = record.get("attempts")
        attempts = attempts if isinstance(attempts, int) else 1
        found.append((float(status.get("started") or 0), folder.name, attempts))
    for _, name, attempts in sorted(found, reverse=True):
        if _claim(parent / name, attempts + 1):
            return parent / name
    return None


def continue_study(study: Any, interrupted: list[int]) -> tuple[int, list[int]]:
    """Fail the trials a dead sweep left running, ask their parameters again, count the rest.

    Args:
        study: The ``optuna.Study`` of a sweep whose process is gone.
        interrupted: Trial numbers an earlier continuation already found interrupted.

    Returns:
        The number of trials done (finished, interrupted ones aside), and the numbers of
        the trials found running now.
    """
    import optuna
    from optuna.trial import TrialState

    found = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)
        with warnings.catch_warnings():
            # enqueue_trial is "experimental" in Optuna 2; Optuna 3 keeps it as is.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.enqueue_trial(dict(trial.params))
        found.append(trial.number)
    skipped = {*interrupted, *found}
    trials = study.get_trials(deepcopy=False)
    done = sum(1 for t in trials if t.state.is_finished() and t.number not in skipped)
    return done, found


def _continue(config: DictConfig, folder: Path, record: dict[str, Any]) -> str:
    import optuna

    from pegboard.runner.sweep import next_job_number, pin_for_jobs

    sweeper = config.hydra.sweeper
    try:
        study = optuna.load_study(study_name=str(sweeper.study_name), storage=sweeper.storage)
    except KeyError:  # the first attempt stopped before its sweeper created the study
        study = None
    done, found = continue_study(study, record["interrupted_trials"]) if study else (0, [])
    record["interrupted_trials"] += found
    wanted = int(sweeper.n_trials)
    with read_write(sweeper):
        sweeper.n_trials = max(0, wanted - done)
        sampler = sweeper.get("sampler")
        if study and isinstance(sampler, DictConfig) and isinstance(sampler.get("seed"), int):
            # A fresh sampler with the first attempt's seed would suggest its points again.
            sampler.seed = int(sampler.seed) + len(study.get_trials(deepcopy=False))
    first = next_job_number(folder)
    subdir = _unresolved(config.hydra.sweep, "subdir")
    if first and subdir == "${hydra.job.num}":
        # Jobs are numbered from 0 again: their folders go after the first attempt's.
        pin_for_jobs(config, "hydra.sweep.subdir", f"${{pegboard.job_folder:{subdir},{first}}}")
    line = f"Continuing sweep {folder}: {done} of {wanted} trials done"
    if found:
        many = len(found) > 1
        numbers = ", ".join(map(str, found))
        line += f"; interrupted trial{'s' if many else ''} {numbers} run{'' if many else 's'} again"
    return line


def begin_sweep(config: DictConfig, continued: Path | None) -> None:
    """Record a resumable sweep in its folder, and continue ``continued``'s study.

    Args:
        config: The multirun's config, in the launching process; ``hydra.sweep.dir`` is
            the folder chosen (``continued``, or the one just claimed).
        continued: The unfinished sweep this multirun continues, or ``None``.
    """
    if not _resumable(config):
        return
    folder = Path(str(config.hydra.sweep.dir))
    before = read_json_object(folder / RECORD_FILE) if continued else {}
    record = {
        "command": sweep_identity(config),
        "attempts": int(before.get("attempts") or 0) + 1,
        "interrupted_trials": list(before.get("interrupted_trials", [])),
    }
    line = _continue(config, folder, record) if continued else None
    _write_json(folder / RECORD_FILE, record)
    status = {"status": "running", "started": time.time()}
    _write_json(folder / STATUS_FILE, {**status, "pid": os.getpid(), "host": socket.gethostname()})
    if line:
        print(line)


def finish_sweep(sweep_dir: Path) -> None:
    """Mark a recorded sweep ``completed``: a rerun of its command starts a new one.

    Args:
        sweep_dir: The sweep's folder.
    """
    status = read_json_object(sweep_dir / STATUS_FILE)
    if (sweep_dir / RECORD_FILE).is_file() and status:
        _write_json(
            sweep_dir / STATUS_FILE, {**status, "status": "completed", "ended": time.time()}
        )


__all__ = [
    "DEFAULT_STORAGE",
    "OPTUNA_SWEEPER",
    "RECORD_FILE",
    "RESUME_KEY",
    "begin_sweep",
    "continue_study",
    "finish_sweep",
    "keep_study_where_it_works",
    "rdb_storage_problem",
    "sweep_identity",
    "sweep_to_continue",
]
