"""Pick a checkpoint of a training run: ``ckpt_path=last``, ``best`` or a file.

``last`` is the newest checkpoint of the run that loads (a corrupt or truncated file is
named in a warning and skipped for the previous one); ``best`` is the file that the
run's ``ModelCheckpoint`` recorded as best for its monitored metric. When no file of
the run loads, the stage stops with an error rather than silently starting from scratch.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pegboard._compat import CALLBACKS_KEY
from pegboard.errors import ConfigError
from pegboard.runner.checkpoint_io import load_checkpoint, remove_partial_writes

log = logging.getLogger(__name__)

#: ``ckpt_path`` values that pick a checkpoint of a run instead of naming a file.
KEYWORDS = ("last", "best")
LAST_NAME = "last.ckpt"


class NoCheckpoint(ConfigError):
    """The run named holds no checkpoint file (it stopped before its first save).

    Args:
        run: The run directory.
    """

    def __init__(self, run: Path) -> None:
        super().__init__(f"run {run} has no checkpoints in {run / 'checkpoints'}")
        self.run = run


def _started(run: Path) -> float:
    try:
        return float(json.loads((run / "status.json").read_text())["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return run.stat().st_mtime


def run_checkpoints(run: Path) -> list[Path]:
    """A run's checkpoint files, newest first (``last.ckpt`` first among equals).

    Temporary files of writes a kill interrupted are removed on the way, unless the
    run's process is still alive (it may be writing one now).

    Args:
        run: A run directory.
    """
    from pegboard.runner.rundir import read_status

    if read_status(run).get("status") != "running":
        for path in remove_partial_writes(run / "checkpoints"):
            log.info("removed %s, left by an interrupted checkpoint write", path)
    files = [p for p in (run / "checkpoints").glob("*.ckpt") if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name == LAST_NAME), reverse=True)


def find_run(
    runs_dir: Path, run: str | None, exclude: Path | None = None, unfinished: bool = False
) -> Path:
    """The run directory named by ``run``, or the newest one that has checkpoints.

    Args:
        runs_dir: Where training runs live (``<log_dir>/train/runs``).
        run: A run directory, or a run's folder name under ``runs_dir``; ``None`` for
            the newest.
        exclude: A directory never to pick (the run being started).
        unfinished: Pick only among runs that did not complete (interrupted, crashed,
            failed): what ``pegboard train ckpt_path=last`` continues without ``run=``.
    """
    from pegboard.runner.rundir import read_status

    if run:
        for candidate in (Path(run), runs_dir / run):
            if candidate.is_dir():
                return candidate
        raise ConfigError(f"run={run}: no such run directory (looked in {runs_dir} too)")
    skip = exclude.resolve() if exclude else None
    runs = [
        path
        for path in (runs_dir.iterdir() if runs_dir.is_dir() else [])
        if path.is_dir() and path.resolve() != skip and run_checkpoints(path)
    ]
    if not runs:
        raise ConfigError(
            f"ckpt_path needs a training run with checkpoints, and {runs_dir} has none; "
            "train first or give ckpt_path=/path/to/file.ckpt"
        )
    if unfinished:
        done = [path for path in runs if read_status(path).get("status") == "completed"]
        runs = [path for path in runs if path not in done]
        if not runs:
            newest = max(done, key=_started)
            raise ConfigError(
                f"ckpt_path=last continues an interrupted or crashed run, and every run in "
                f"{runs_dir} completed; to train a completed run further, name it: "
                f"ckpt_path=last run={newest.name}"
            )
    return max(runs, key=_started)


def newest_valid(candidates: list[Path]) -> tuple[Path, dict[str, Any]]:
    """The first checkpoint of ``candidates`` that loads, warning about each one skipped.

    Args:
        candidates: Checkpoint files in order of preference.

    Raises:
        ConfigError: None of them loads.
    """
    for path in candidates:
        try:
            return path, load_checkpoint(path)
        except ConfigError as error:
            message = f"skipping checkpoint {path}: {error}"
            log.warning(message)
            warnings.warn(message, stacklevel=2)
    listed = ", ".join(str(p) for p in candidates) or "none"
    raise ConfigError(f"no valid checkpoint to use: every candidate failed to load ({listed})")


def _best_first(files: list[Path]) -> list[Path]:
    # Without ModelCheckpoint's record: the newest epoch file, then last.ckpt.
    best = [p for p in files if p.name != LAST_NAME]
    return best + [p for p in files if p.name == LAST_NAME]


def recorded_best(checkpoint: Mapping[str, Any]) -> list[str]:
    """The checkpoint files a run's ``ModelCheckpoint`` ranked, best first.

    Lightning saves each callback's state in every checkpoint; ``ModelCheckpoint``'s holds
    ``best_model_path`` and its top-k files with their scores (``best_k_models``).

    Args:
        checkpoint: A loaded checkpoint of the run (the newest knows the most).
    """
    from pytorch_lightning.callbacks import ModelCheckpoint

    for key, state in (checkpoint.get(CALLBACKS_KEY) or {}).items():
        if not str(key).startswith(ModelCheckpoint.__qualname__) or not isinstance(state, Mapping):
            continue
        best = state.get("best_model_path")
        if not best:
            continue
        scores = {
            str(path): float(score) for path, score in (state.get("best_k_models") or {}).items()
        }
        # best_k_models does not say the mode; the best score tells which end is best.
        best_score = scores.get(str(best))
        descending = best_score is not None and best_score == max(scores.values(), default=0.0)
        ranked = sorted(scores, key=scores.__getitem__, reverse=descending)
        return list(dict.fromkeys([str(best), *ranked]))
    return []


def _best(run_dir: Path, files: list[Path]) -> tuple[Path, dict[str, Any]]:
    newest, checkpoint = newest_valid(files)
    for recorded in recorded_best(checkpoint):
        # The run folder may have moved since: look for the file by name there too.
        for candidate in (Path(recorded), run_dir / "checkpoints" / Path(recorded).name):
            if candidate.is_file():
                if candidate.resolve() == newest.resolve():
                    return newest, checkpoint
                try:
                    return candidate, load_checkpoint(candidate)
                except ConfigError as error:
                    log.warning("skipping recorded best checkpoint %s: %s", candidate, error)
    return newest_valid(_best_first(files))


def resolve_checkpoint(
    ckpt_path: str | os.PathLike[str],
    runs_dir: Path,
    run: str | None = None,
    exclude: Path | None = None,
    unfinished: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Turn a ``ckpt_path`` value into a loaded checkpoint.

    Args:
        ckpt_path: A file, or ``last`` (newest valid checkpoint of the run) or ``best``
            (the file ``ModelCheckpoint`` recorded as best for its monitor; without a
            record, the newest epoch checkpoint).
        runs_dir: Where training runs live, for the keywords.
        run: The run the keywords pick from; ``None`` for the newest run.
        exclude: A run directory never to pick (the run being started).
        unfinished: Without ``run``, pick only runs that did not complete.

    Returns:
        The file chosen and its contents.
    """
    value = str(ckpt_path)
    if value in KEYWORDS:
        run_dir = find_run(runs_dir, run, exclude, unfinished)
        files = run_checkpoints(run_dir)
        if not files:
            raise NoCheckpoint(run_dir)
        return _best(run_dir, files) if value == "best" else newest_valid(files)
    return Path(value), load_checkpoint(Path(value))


__all__ = [
    "KEYWORDS",
    "LAST_NAME",
    "NoCheckpoint",
    "find_run",
    "newest_valid",
    "recorded_best",
    "resolve_checkpoint",
    "run_checkpoints",
]
