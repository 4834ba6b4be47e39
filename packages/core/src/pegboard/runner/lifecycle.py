"""One lifecycle for every command's run directory: running, then how the run ended.

``train``, ``eval``, ``predict`` and ``export`` each hand ``run_in_directory`` a body
that returns an ``Outcome``: ``status.json`` says ``running`` while it works, then
``completed`` with the outcome's metrics, ``failed`` (with the error) or
``interrupted``; the outcome's summary lines and the run directory are printed last. A
run stopped by SIGTERM or Ctrl+C, in any phase, exits with 143 or 130 so that
schedulers and scripts never take it for finished.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pegboard.errors import PegboardError
from pegboard.runner._console import echo
from pegboard.runner.rundir import STATUS_FILE, RunStatus, is_launching_process, read_status
from pegboard.runner.signals import EXIT_SIGTERM, exit_status

Result = TypeVar("Result")


@dataclass(frozen=True)
class Outcome(Generic[Result]):
    """What a command's body hands back to the lifecycle of its run directory.

    Args:
        result: What the command returns (the metric a sweeper optimizes, a file).
        metrics: Recorded with ``completed`` in ``status.json``.
        summary: Lines printed once the run is marked completed, before its directory.
    """

    result: Result
    metrics: dict[str, Any]
    summary: Sequence[str] = field(default_factory=tuple)


def run_in_directory(
    run_dir: Path,
    command: str,
    body: Callable[[], Outcome[Result]],
    resume_hint: Sequence[str] = (),
) -> Result:
    """Run ``body`` with ``status.json`` kept true in ``run_dir``.

    Args:
        run_dir: The run directory (created if missing).
        command: The command's name, for messages.
        body: The command's work.
        resume_hint: Lines printed when a signal stopped the run (how to continue it).

    Returns:
        The outcome's ``result``.

    Raises:
        SystemExit: 143 after SIGTERM, 130 after Ctrl+C (the run marked ``interrupted``).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    status = RunStatus(run_dir)
    try:
        outcome = body()
    except BaseException as error:
        marked = status.failed(error)
        code = exit_status(error)
        if code is not None:
            signal_name = "SIGTERM" if code == EXIT_SIGTERM else "Ctrl+C"
            echo(
                f"pegboard {command}: interrupted by {signal_name}; run {run_dir} is marked "
                f"{marked} in {STATUS_FILE}.",
                *resume_hint,
            )
            raise SystemExit(code) from error
        # A pegboard error is reported in one line; status.json records the failure.
        if is_launching_process() and not isinstance(error, PegboardError):
            print(
                f"pegboard {command}: run {run_dir} is marked {marked} in {STATUS_FILE}.",
                file=sys.stderr,
            )
        raise
    status.completed(outcome.metrics)
    echo(*outcome.summary, f"Run directory: {run_dir}")
    return outcome.result


def test_summary(metrics: dict[str, float]) -> tuple[str, ...]:
    """The test score in one line: ``Test accuracy: 0.9443``, or ``Test R²: 0.47 (MAE ...)``.

    Args:
        metrics: A run's final metrics (nothing is said without test metrics).
    """
    if "test/acc" in metrics:
        return (f"Test accuracy: {metrics['test/acc']:.4f}",)
    if "test/r2" in metrics:
        errors = ", ".join(
            f"{name.upper()} {metrics[f'test/{name}']:.4g}"
            for name in ("mae", "rmse")
            if f"test/{name}" in metrics
        )
        return (f"Test R²: {metrics['test/r2']:.4f}" + (f" ({errors})" if errors else ""),)
    return ()


def announce_finished(cfg: Any) -> None:
    """Tell the packs' ``pegboard_run_finished`` hooks how a run ended, once.

    Called after the command's task returned or raised, on the launching process only.
    A command that stopped before its run began (no ``status.json``) had no run.

    Args:
        cfg: The job's composed config.
    """
    from omegaconf import OmegaConf

    from pegboard.hooks import pack_hooks, read_only

    hooks = pack_hooks()
    output_dir = OmegaConf.select(cfg, "paths.output_dir", default=None)
    if not hooks.modules or output_dir is None or not is_launching_process():
        return
    run_dir = Path(str(output_dir))
    if not (run_dir / STATUS_FILE).is_file():
        return
    record = read_status(run_dir)
    # The resolved config the run recorded, when it got that far.
    written = run_dir / "config.yaml"
    config = OmegaConf.load(written) if written.is_file() else cfg
    hooks.call(
        "pegboard_run_finished",
        run_dir=run_dir,
        cfg=read_only(config),
        metrics=dict(record.get("metrics") or {}),
        status=str(record.get("status")),
    )


__all__ = ["Outcome", "announce_finished", "run_in_directory", "test_summary"]
