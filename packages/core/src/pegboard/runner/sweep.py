"""One ``summary.csv`` per multirun: every job's overrides, status and final metrics.

Imported by Hydra at start (it is a Hydra callback), so it imports neither torch nor
Lightning.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from pegboard.runner.rundir import read_status

log = logging.getLogger(__name__)

SUMMARY_FILE = "summary.csv"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _overrides(job_dir: Path) -> dict[str, str]:
    try:
        listed: Any = OmegaConf.load(job_dir / ".hydra" / "overrides.yaml") or []
    except Exception:  # unreadable or not YAML: the job simply shows no overrides
        return {}
    pairs = (str(item).split("=", 1) for item in listed if "=" in str(item))
    return {key.lstrip("+~"): value for key, value in pairs}


def _job_sort_key(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 30, path.name)


def collect(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job folder of a multirun: ``job``, ``status``, overrides, metrics.

    Args:
        sweep_dir: The multirun's folder (``hydra.sweep.dir``).
    """
    rows = []
    job_dirs = [p for p in sweep_dir.iterdir() if (p / ".hydra" / "overrides.yaml").is_file()]
    for job_dir in sorted(job_dirs, key=_job_sort_key):
        status = read_status(job_dir)
        metrics = _read_json(job_dir / "metrics.json") or status.get("metrics") or {}
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
        path = write_summary(Path(str(config.hydra.sweep.dir)))
        if path is not None:
            print(f"Multirun summary: {path}")


__all__ = ["SUMMARY_FILE", "MultirunSummary", "collect", "write_summary"]
