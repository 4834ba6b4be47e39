"""Run every kit check against one pack and report each result; ``python -m`` entry point.

``pegboard plugins check`` starts ``python -m pegboard.testing.report MODULE:ATTR`` once
per pack, so that a pack that crashes the interpreter cannot take the others down. Each
result is printed as one JSON line as soon as it is known: a crash keeps those before it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Prefix of result lines, so that stray prints of a pack do not corrupt the report.
MARKER = "PEGBOARD-CHECK "


@dataclass(frozen=True)
class Result:
    """One check of one pack.

    Args:
        check: What was checked (``manifest``, ``model=acme_net``, ``export model=acme_net``).
        status: ``"pass"``, ``"fail"`` or ``"skip"``.
        reason: Why it failed or was skipped, or what passed, in one line.
    """

    check: str
    status: str
    reason: str = ""


def _in_chain(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` among ``error`` and its causes or contexts."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _one_line(error: BaseException) -> str:
    """The whole message on one line (a table row), nothing cut."""
    return " ".join(str(error).split())


def _missing_dependency(error: BaseException) -> ImportError | None:
    found = _in_chain(error, ImportError)
    return found if isinstance(found, ImportError) else None


def _needs_user_value(error: BaseException) -> bool:
    from omegaconf.errors import MissingMandatoryValue

    return _in_chain(error, MissingMandatoryValue) is not None


def _run(check: str, call: Callable[[], Any], build_step: bool = False) -> Result:
    from pegboard.errors import DataNotFound
    from pegboard.testing.export_check import CheckSkipped

    try:
        outcome = call()
    except CheckSkipped as skipped:
        return Result(check, "skip", skipped.reason)
    except Exception as error:
        absent = _in_chain(error, DataNotFound)
        if absent is not None:
            # The dataset's files are not here and nothing may be downloaded: not a defect.
            return Result(check, "skip", f"its files are not on this machine: {_one_line(absent)}")
        if _needs_user_value(error):
            # A config with `???` is a template the user completes (an image folder's path).
            first = str(error).strip().splitlines()[0]
            return Result(check, "skip", f"the config needs a value from the user: {first}")
        missing = _missing_dependency(error) if build_step else None
        if missing is not None:
            # An optional extra of the pack (timm for an adapter) is not installed.
            return Result(check, "skip", f"needs a module that is not installed: {missing}")
        return Result(check, "fail", f"{type(error).__name__}: {_one_line(error)}")
    detail = ", ".join(outcome) if isinstance(outcome, list) else (outcome or "")
    return Result(check, "pass", str(detail))


def run_checks(plugin: str, tmp_path: Path) -> Iterator[Result]:
    """Run the manifest, compose, model, export and datamodule checks of one pack.

    Args:
        plugin: The manifest's ``"module:attr"`` path.
        tmp_path: A scratch folder.
    """
    from pegboard import testing as kit
    from pegboard.testing.export_check import check_export

    manifest = _run("manifest", lambda: kit.check_manifest(plugin))
    yield manifest
    if manifest.status == "fail":
        return
    if kit.load_plugin(plugin).hooks:
        yield _run("hooks", lambda: kit.check_hooks(plugin))
    yield _run("configs compose", lambda: kit.check_configs_compose(plugin, tmp_path / "compose"))
    for option in kit.config_options(plugin, "model"):
        folder = tmp_path / "model" / option.replace("/", "_")
        trained = _run(
            f"model={option}",
            lambda: kit.check_model(plugin, option, folder / "train"),  # noqa: B023
            build_step=True,
        )
        yield trained
        if trained.status != "pass":
            why = "failed" if trained.status == "fail" else "was skipped"
            yield Result(f"export model={option}", "skip", f"model={option} {why}")
            continue
        yield _run(
            f"export model={option}",
            lambda: check_export(plugin, option, folder / "export"),  # noqa: B023
            build_step=True,
        )
    # One scratch folder for every dataset: each finds its files at <data_dir>/<name>, as
    # on a user's machine, and a missing-files message names that one path.
    for option in kit.config_options(plugin, "data"):
        yield _run(
            f"data={option}",
            lambda: kit.check_datamodule(plugin, option, tmp_path / "datasets"),  # noqa: B023
            build_step=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Print one ``MARKER``-prefixed JSON line per result; exit 1 if any check failed.

    Args:
        argv: ``[MODULE:ATTR]``; ``sys.argv[1:]`` by default.
    """
    import logging
    import warnings

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or ":" not in args[0]:
        print("usage: python -m pegboard.testing.report MODULE:ATTR", file=sys.stderr)
        return 2
    # Lightning's info lines and warnings would bury the report.
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    failed = False
    with tempfile.TemporaryDirectory(prefix="pegboard-check-") as folder:
        try:
            for result in run_checks(args[0], Path(folder)):
                failed |= result.status == "fail"
                print(MARKER + json.dumps(asdict(result)), flush=True)
        except Exception:
            traceback.print_exc()
            return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["MARKER", "Result", "main", "run_checks"]
