"""``pegboard plugins check [NAME...]``: the conformance kit against installed packs.

Each pack is checked in its own interpreter (``python -m pegboard.testing.report``), so
a pack that crashes or hangs is one failed row, not the end of the table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from pegboard_launcher.discovery import Pack, Problem, discover
from pegboard_launcher.reporting import report_error

#: Seconds one pack's checks may take before the pack is reported as hung.
TIMEOUT_ENV = "PEGBOARD_CHECK_TIMEOUT"
STATUSES = ("pass", "fail", "skip")
MARKER = "PEGBOARD-CHECK "  # pegboard.testing.report.MARKER, kept here to avoid importing it


def _row(pack: str, version: str, check: str, status: str, reason: str) -> dict[str, str]:
    return {"pack": pack, "version": version, "check": check, "status": status, "reason": reason}


def check_pack(pack: Pack) -> list[dict[str, str]]:
    """Run the kit on one loaded pack in a subprocess; one row per check.

    Args:
        pack: A pack whose manifest loaded.
    """
    timeout = float(os.environ.get(TIMEOUT_ENV, "900"))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pegboard.testing.report", pack.value],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [_row(pack.name, pack.version, "all checks", "fail", f"timed out after {timeout}s")]
    rows = [
        _row(pack.name, pack.version, **json.loads(line[len(MARKER) :]))
        for line in result.stdout.splitlines()
        if line.startswith(MARKER)
    ]
    if result.returncode != 0 and not any(row["status"] == "fail" for row in rows):
        tail = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        rows.append(_row(pack.name, pack.version, "checker", "fail", f"crashed: {tail}"))
    return rows


def format_table(rows: Sequence[dict[str, str]]) -> str:
    """Render result rows as an aligned text table.

    Args:
        rows: Dicts with ``pack``, ``version``, ``check``, ``status`` and ``reason``.
    """
    header = {"pack": "PACK", "version": "VERSION", "check": "CHECK", "status": "RESULT"}
    columns = list(header)
    widths = {c: max(len(header[c]), *(len(r[c]) for r in rows)) for c in columns}

    def line(row: dict[str, Any]) -> str:
        cells = [f"{row[c]!s:<{widths[c]}}" for c in columns]
        return ("  ".join(cells) + "  " + str(row.get("reason", ""))).rstrip()

    body = [line({**header, "reason": "REASON"}), *(line(r) for r in rows)]
    return "\n".join(body) + "\n"


def run_check(argv: Sequence[str]) -> int:
    """Check the named installed packs (all by default); print a table or JSON.

    Args:
        argv: Pack names (distribution or entry-point names) and optionally ``--json``.

    Returns:
        0 when every check passed or was skipped, 1 when one failed, 2 for usage errors.
    """
    names = [arg for arg in argv if arg != "--json"]
    if any(name.startswith("-") for name in names):
        return report_error(f"pegboard plugins check: unknown option {names[0]!r}; use --json")
    found = discover()
    every: list[Pack | Problem] = [*found.packs, *found.broken, *found.skipped]
    known = {name for p in every for name in (p.name, p.entry_point)}
    unknown = [name for name in names if name not in known]
    if unknown:
        available = ", ".join(sorted({p.name for p in every})) or "none"
        return report_error(f"no installed pack named {unknown[0]!r}; installed: {available}")

    def wanted(name: str, entry_point: str) -> bool:
        return not names or name in names or entry_point in names

    rows: list[dict[str, str]] = []
    for problem in [*found.broken, *found.skipped]:
        if wanted(problem.name, problem.entry_point):
            status = "skip" if problem.kind == "disabled" else "fail"
            rows.append(_row(problem.name, problem.version, "manifest", status, problem.reason))
    for pack in found.packs:
        if wanted(pack.name, pack.entry_point):
            print(f"checking {pack.name} {pack.version}...", file=sys.stderr, flush=True)
            rows.extend(check_pack(pack))
    if not rows:
        print("No pegboard packs are installed.")
        return 0
    rows.sort(key=lambda row: row["pack"])
    print(json.dumps(rows, indent=2) + "\n" if "--json" in argv else format_table(rows), end="")
    counts = {status: sum(row["status"] == status for row in rows) for status in STATUSES}
    # On stderr, beside the progress lines: stdout stays the table (or JSON) alone.
    print(
        f"plugins check: {counts['pass']} passed, {counts['fail']} failed, "
        f"{counts['skip']} skipped",
        file=sys.stderr,
    )
    return 1 if counts["fail"] else 0
