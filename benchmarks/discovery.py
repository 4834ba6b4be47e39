"""Cost of plugin discovery with 100 installed packs against one, in one run.

Target (issue 2, kept by issue 12): 100 packs, half of them with hook modules, add at most
30 ms over one pack. Each pack is a real distribution (dist-info with entry points, a
manifest, a config package with a model and a data option, and for every other pack a
hook module with a command), found through ``importlib.metadata`` like an installed
wheel. Discovery never imports a hook module; ``pegboard --help`` reads their sources to
list the commands they add, which is timed on its own line.

    python benchmarks/discovery.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pegboard.testing.packs import write_pack

TARGET_MS = 30.0
PROBE = """
import time
start = time.perf_counter()
from pegboard_launcher.discovery import discover
from pegboard_launcher.index import build_index, check_collisions
index = build_index(discover())
check_collisions(index)
found = (time.perf_counter() - start) * 1000
from pegboard_launcher.commands import pack_commands
start = time.perf_counter()
listed = len(pack_commands(discover()).usable)
print(found, len(discover().packs), (time.perf_counter() - start) * 1000, listed)
"""
HOOKS = """\
from pegboard import hookimpl


def run(argv):
    \"\"\"Do the pack's own thing.\"\"\"
    return 0


@hookimpl
def pegboard_commands():
    return {"{name}-run": run}
"""


def _probe(site: Path) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return [float(value) for value in out]


def discovery_ms(sites: list[Path], repeat: int) -> list[tuple[float, int, float, int]]:
    """Per site: median milliseconds to discover, index and collision-check its packs, their
    count, the median milliseconds to list the commands of their hook modules, and how many
    commands were listed. The sites are probed in turn, round after round, so that a busy
    moment of the machine weighs on every site alike."""
    samples: list[list[list[float]]] = [[] for _ in sites]
    for _ in range(repeat + 1):
        for taken, site in zip(samples, sites, strict=True):
            taken.append(_probe(site))
    results = []
    for taken in samples:
        kept = taken[1:]  # the first round warms the file-system cache
        found, count, listing, commands = zip(*kept, strict=True)
        results.append(
            (statistics.median(found), int(count[0]), statistics.median(listing), int(commands[0]))
        )
    return results


def make_site(root: Path, packs: int) -> Path:
    site = root / f"site_{packs}"
    site.mkdir()
    for number in range(packs):
        write_pack(
            site,
            f"bench-pack-{number:03d}",
            configs={
                f"model/bench_net_{number:03d}.yaml": "_target_: x.Net\n",
                f"data/bench_data_{number:03d}.yaml": "_target_: x.Data\n",
            },
            hooks=HOOKS.replace("{name}", f"bench-{number:03d}") if number % 2 else None,
        )
    return site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sites = [make_site(Path(tmp), 1), make_site(Path(tmp), 100)]
        (one, found_one, _, _), (hundred, found_hundred, listing, commands) = discovery_ms(
            sites, args.repeat
        )
    added = hundred - one
    print(f"discovery with {found_one:3d} packs   {one:7.1f} ms")
    print(f"discovery with {found_hundred:3d} packs   {hundred:7.1f} ms  (half with hook modules)")
    verdict = "ok" if added <= TARGET_MS else "SLOWER THAN TARGET"
    print(f"added by 99 more packs   {added:7.1f} ms  (target <= {TARGET_MS:.0f} ms)  {verdict}")
    print(f"--help reads {commands} commands from hook sources   {listing:7.1f} ms (no import)")
    return 0 if added <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
