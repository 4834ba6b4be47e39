"""One ``summary.csv`` per multirun: every job's overrides, status and final metrics.

Also the multirun settings that must reach every job (``pin_for_jobs``) and the resolver
that numbers a continued sweep's job folders after the earlier ones.

Imported by Hydra at start (it is a Hydra callback), so it imports neither torch nor
Lightning.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, read_write

from pegboard.runner.rundir import read_json_object, read_status

log = logging.getLogger(__name__)

SUMMARY_FILE = "summary.csv"
#: ``${pegboard.job_folder:${hydra.job.num},FIRST}``: job ``num``'s folder when the jobs
#: of this attempt are numbered from 0 but the folders before ``FIRST`` exist already.
JOB_FOLDER_RESOLVER = "pegboard.job_folder"


def _job_folder(num: Any, first: Any) -> str:
    return str(int(num) + int(first))


# Registered on import: each job resolves its folder in the process that runs it, and a
# joblib or submitit worker imports this module when it receives the multirun's callbacks.
if not OmegaConf.has_resolver(JOB_FOLDER_RESOLVER):
    OmegaConf.register_new_resolver(JOB_FOLDER_RESOLVER, _job_folder)


def _quoted(value: str) -> str:
    # Hydra's quoted strings: a backslash is special only before a quote or at the end.
    doubled = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, value)
    return "'" + doubled.replace("'", "\\'") + "'"


def pin_for_jobs(config: DictConfig, key: str, value: str) -> None:
    """Set a Hydra setting for this multirun and for each of its jobs.

    Hydra composes each job's config again from the command's overrides
    (``ConfigLoader.load_sweep_config``): a value changed in the multirun's config alone
    never reaches the jobs, so it is added to ``hydra.overrides.hydra`` as well.

    Args:
        config: The multirun's config, in the launching process.
        key: A dotted key under ``hydra.`` (``hydra.sweep.dir``).
        value: Its value as OmegaConf reads it: ``${...}`` is an interpolation (``literal``
            makes a plain string of a folder).
    """
    with read_write(config.hydra):
        OmegaConf.update(config, key, value, merge=False)
        config.hydra.overrides.hydra.append(f"{key}={_quoted(value)}")


def literal(text: str) -> str:
    """``text`` as an OmegaConf value that is never read as an interpolation.

    Args:
        text: A plain string, such as a folder.
    """
    return text.replace("${", "\\${")


def _overrides(job_dir: Path) -> dict[str, str]:
    try:
        listed: Any = OmegaConf.load(job_dir / ".hydra" / "overrides.yaml") or []
    except Exception:  # unreadable or not YAML: the job simply shows no overrides
        return {}
    pairs = (str(item).split("=", 1) for item in listed if "=" in str(item))
    return {key.lstrip("+~"): value for key, value in pairs}


def _job_sort_key(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 30, path.name)


def next_job_number(sweep_dir: Path) -> int:
    """One more than the highest numbered job folder of a sweep (0 when it has none).

    Args:
        sweep_dir: The sweep's folder.
    """
    numbers = [int(p.name) for p in sweep_dir.iterdir() if p.name.isdigit() and p.is_dir()]
    return max(numbers, default=-1) + 1


def collect(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job folder of a multirun: ``job``, ``status``, overrides, metrics.

    Args:
        sweep_dir: The multirun's folder (``hydra.sweep.dir``).
    """
    rows = []
    job_dirs = [p for p in sweep_dir.iterdir() if (p / ".hydra" / "overrides.yaml").is_file()]
    for job_dir in sorted(job_dirs, key=_job_sort_key):
        status = read_status(job_dir)
        metrics = read_json_object(job_dir / "metrics.json") or status.get("metrics") or {}
        row: dict[str, Any] = {"job": job_dir.name, "status": status.get("status", "unknown")}
        row.update(_overrides(job_dir))
        row.update(metrics)
        rows.append(row)
    return rows


def write_summary(sweep_dir: Path) -> Path | None:
    """Write ``summary.csv`` in ``sweep_dir``; columns are the union over the jobs.

    Args:
        sweep_dir: The multirun's folder.

    Returns:
        The file written, or ``None`` when the folder holds no job.
    """
    if not sweep_dir.is_dir():
        return None
    rows = collect(sweep_dir)
    if not rows:
        return None
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path = sweep_dir / SUMMARY_FILE
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


class MultirunSummary(Callback):
    """Hydra callback: after a multirun, write ``summary.csv`` in its sweep folder.

    Works with any sweeper and launcher (basic, Optuna, joblib, submitit) because it reads
    only what each job leaves on disk: ``.hydra/overrides.yaml``, ``metrics.json`` and
    ``status.json``.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from pegboard.runner.optuna_resume import finish_sweep

        sweep_dir = Path(str(config.hydra.sweep.dir))
        path = write_summary(sweep_dir)
        if path is not None:
            print(f"Multirun summary: {path}")
        # Hydra calls this only when the sweeper returned: a sweep that stopped early
        # stays unfinished, and the same command continues it.
        finish_sweep(sweep_dir)


__all__ = [
    "JOB_FOLDER_RESOLVER",
    "SUMMARY_FILE",
    "MultirunSummary",
    "collect",
    "literal",
    "next_job_number",
    "pin_for_jobs",
    "write_summary",
]
