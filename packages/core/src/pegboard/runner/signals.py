"""SIGTERM and Ctrl+C at any moment of a command: the run is marked, the exit status tells.

Lightning handles SIGTERM only inside its loops, and only in fit does it stop: a test or
predict loop runs on, and outside a loop (building the model, reading data, exporting)
Python's default kills the process before ``status.json`` can say so. pegboard installs
its own handler when a command starts:

* outside a Lightning loop it raises ``Terminated`` at once, so the command unwinds,
  marks the run ``interrupted`` and exits with 143;
* inside one (``lightning_stage``), Lightning's handler runs first (it composes with
  ours), fit stops after the current batch as Lightning does and saves ``last.ckpt``, and
  when the loop returns anyway (test, predict, the last batch of fit), ``Terminated``
  is raised as soon as it does.

Ctrl+C keeps Python's ``KeyboardInterrupt``; Lightning turns it into ``exit(1)`` inside
its loops, so the signal is remembered and the command exits with 130 either way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: Exit statuses after SIGTERM and SIGINT (128 + the signal), what shells report.
EXIT_SIGTERM = 143
EXIT_SIGINT = 130

_state = {"in_stage": False, "sigterm": False, "sigint": False}


class Terminated(SystemExit):
    """SIGTERM reached pegboard outside a Lightning loop, or a loop ignored it."""

    def __init__(self) -> None:
        super().__init__(EXIT_SIGTERM)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _state["sigterm"] = True
    if not _state["in_stage"]:
        raise Terminated


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _state["sigint"] = True
    raise KeyboardInterrupt


def install() -> None:
    """Install pegboard's SIGTERM and SIGINT handlers (main thread only, as Python requires)."""
    if threading.current_thread() is threading.main_thread():
        _state.update(in_stage=False, sigterm=False, sigint=False)
        signal.signal(signal.SIGTERM, _on_sigterm)
        signal.signal(signal.SIGINT, _on_sigint)


@contextmanager
def lightning_stage() -> Iterator[None]:
    """Run a Lightning ``fit``/``test``/``predict`` call, then stop if SIGTERM came meanwhile.

    Lightning's ``MisconfigurationException`` (a setting that cannot work, such as
    ``limit_val_batches`` below one batch) is a mistake in the config: it becomes a
    ``ConfigError``, reported in one line.
    """
    from lightning_fabric.utilities.exceptions import MisconfigurationException

    from pegboard.errors import ConfigError

    _state["in_stage"] = True
    try:
        yield
    except MisconfigurationException as error:
        raise ConfigError(" ".join(str(error).split())) from error
    finally:
        _state["in_stage"] = False
    if _state["sigterm"]:
        raise Terminated


def exit_status(error: BaseException) -> int | None:
    """The exit status an error that ended a run stands for: 143, 130, or ``None``.

    Args:
        error: The exception that ended the run.
    """
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    if isinstance(error, Terminated | SIGTERMException) or _state["sigterm"]:
        return EXIT_SIGTERM
    if isinstance(error, KeyboardInterrupt) or _state["sigint"]:
        return EXIT_SIGINT
    return None


__all__ = [
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "Terminated",
    "exit_status",
    "install",
    "lightning_stage",
]
