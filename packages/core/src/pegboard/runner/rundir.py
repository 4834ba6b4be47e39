"""Run directories that are never overwritten, and a status file that says how a run ended."""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, read_write

STATUS_FILE = "status.json"
_HOST = socket.gethostname()


def is_launching_process() -> bool:
    """Whether this is global rank 0 of its job, the process that writes the run's files.

    False in the DDP workers Lightning starts, in every torchrun worker but rank 0 (on
    any node), and in every ``srun`` task but the first (``pegboard.runner.ranks``).
    """
    from pegboard.runner.ranks import is_global_zero

    return is_global_zero()


def claim_run_dir(path: Path) -> Path:
    """Create a folder no other run has: ``path``, else ``path_1``, ``path_2``...

    Each candidate is claimed with one ``mkdir``, which the file system grants to exactly
    one process: runs started in the same second, in any number, get distinct folders.
    A folder that already exists (even empty) is never reused.

    Args:
        path: The folder the config asks for.

    Returns:
        The folder claimed, created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = 0
    while True:
        candidate = path if suffix == 0 else path.with_name(f"{path.name}_{suffix}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            suffix += 1


def _run_to_continue(config: DictConfig) -> Path | None:
    """The run that ``pegboard train ckpt_path=last`` (or ``resume=true``) continues."""
    from pegboard.errors import ConfigError
    from pegboard.runner.run_search import find_run

    value = config.get("ckpt_path") or ("last" if config.get("resume") else None)
    if config.get("task_name") != "train" or str(value) != "last":
        return None
    runs_dir = Path(str(config.paths.log_dir)) / "train" / "runs"
    try:
        return find_run(runs_dir, config.get("run"), unfinished=True)
    except ConfigError:
        return None  # the job reports it, in its own words


class UniqueRunDir(Callback):
    """Hydra callback that claims the run folder, moving to ``<dir>_1``... when it is taken.

    Two runs started in the same second, or a repeated explicit ``hydra.run.dir``, would
    otherwise write into one folder and mix or overwrite each other's checkpoints. The
    claim is atomic (``claim_run_dir``); DDP workers reuse the launching process's folder.
    """

    def _ensure_free(self, config: DictConfig, key: str) -> None:
        from pegboard.runner.ranks import external_launch, shared_run_dir

        if key == "run" and external_launch():
            # torchrun or srun started one pegboard per rank: rank 0 claims, the others
            # join its folder (Hydra's own files there are rank 0's to write).
            with read_write(config.hydra):
                config.hydra.run.dir = str(
                    shared_run_dir(Path(str(config.hydra.run.dir)), claim_run_dir)
                )
                if not is_launching_process():
                    config.hydra.output_subdir = None
            return
        if not is_launching_process():
            return
        node = config.hydra.run if key == "run" else config.hydra.sweep
        wanted = Path(str(node.dir))
        free = claim_run_dir(wanted)
        if free != wanted:
            print(f"Run directory {wanted} is already used; writing to {free} instead.")
            with read_write(node):
                node.dir = str(free)

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        continued = _run_to_continue(config) if is_launching_process() else None
        if continued is not None:
            from pegboard.runner.resume import continued_folder

            # The continuation gets a folder of its own, linked by name to the run it
            # continues (whose files stay as they were), and resumes exactly that run.
            with read_write(config):
                config.run = str(continued)
                config.hydra.run.dir = str(continued_folder(continued))
        self._ensure_free(config, "run")
        if continued is not None:
            print(f"Continuing run {continued} in {config.hydra.run.dir}")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not is_launching_process():
            self._ensure_free(config, "sweep")
            return
        from pegboard.runner import optuna_resume
        from pegboard.runner.sweep import literal, pin_for_jobs

        optuna_resume.keep_study_where_it_works(config)
        wanted = str(config.hydra.sweep.dir)
        # The same command after an interruption continues its sweep, in its folder.
        continued = optuna_resume.sweep_to_continue(config)
        if continued is None:
            self._ensure_free(config, "sweep")
        chosen = str(continued or config.hydra.sweep.dir)
        if chosen != wanted:
            # Each job composes its config again from the overrides: tell them the folder.
            pin_for_jobs(config, "hydra.sweep.dir", literal(chosen))
        optuna_resume.begin_sweep(config, continued)


class RunStatus:
    """Writes ``status.json`` in a run directory: running, then completed or failed.

    A run that stops on bad input or a crash stays on disk, clearly marked, with the error;
    tools and people can tell a finished run from a broken one without reading logs.

    Args:
        run_dir: The run directory.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / STATUS_FILE
        self.started = time.time()
        self._write({"status": "running"})

    def _write(self, payload: dict[str, Any]) -> None:
        if not is_launching_process():
            return
        payload = {**payload, "started": self.started, "pid": os.getpid(), "host": _HOST}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=2))
        # Atomic on POSIX: readers never see a half-written status file.
        tmp.replace(self.path)

    def completed(self, metrics: dict[str, float]) -> None:
        """Mark the run completed.

        Args:
            metrics: Final metrics, recorded beside the status.
        """
        self._write({"status": "completed", "ended": time.time(), "metrics": metrics})

    def failed(self, error: BaseException) -> str:
        """Mark the run failed (or interrupted) with the error that stopped it.

        Args:
            error: The exception that ended the run.

        Returns:
            The status written: ``interrupted`` for Ctrl+C and SIGTERM, else ``failed``.
        """
        # Ctrl+C and SIGTERM (Lightning's SIGTERMException is a SystemExit) stop a healthy
        # run on request: interrupted, resumable, not failed.
        status = "interrupted" if isinstance(error, KeyboardInterrupt | SystemExit) else "failed"
        self._write(
            {
                "status": status,
                "ended": time.time(),
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exception(error),
            }
        )
        return status


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file's object, or ``{}`` when it is missing, unreadable or not an object.

    Args:
        path: A JSON file a run wrote (``status.json``, ``metrics.json``...).
    """
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: asks whether the process exists, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def read_status(run_dir: Path) -> dict[str, Any]:
    """A run's ``status.json``, with a run whose process is gone shown as ``crashed``.

    ``running`` is written when a run starts; a run killed with ``kill -9`` (or by the
    machine going down) never writes its end. When the recorded process no longer exists
    on this host, the status read here is ``crashed`` (the file is left as it is).

    Args:
        run_dir: A run directory.

    Returns:
        The recorded status (``{"status": "unknown"}`` when there is none).
    """
    status = read_json_object(run_dir / STATUS_FILE)
    if not status:
        return {"status": "unknown"}
    pid, host = status.get("pid"), status.get("host")
    ours = host == _HOST and isinstance(pid, int) and pid != os.getpid()
    if status.get("status") == "running" and ours and not _alive(int(pid or 0)):
        status = {**status, "status": "crashed", "recorded": "running"}
    return status


__all__ = [
    "STATUS_FILE",
    "RunStatus",
    "UniqueRunDir",
    "claim_run_dir",
    "is_launching_process",
    "read_json_object",
    "read_status",
]
