"""Start-up time of the pegboard command against importing Lightning, in one run.

Targets (issue 2): `pegboard --help`, `pegboard plugins` and `pegboard train --cfg job`
each take at most a quarter of `python -c "import pytorch_lightning"`, and import
neither torch nor Lightning.

    python benchmarks/startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 0.25


def wall_time(command: list[str], repeat: int, cwd: str) -> float:
    """Median wall-clock seconds of ``command`` over ``repeat`` runs (after one warm-up)."""
    subprocess.run(command, cwd=cwd, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    pegboard = shutil.which("pegboard") or str(Path(sys.executable).with_name("pegboard"))
    with tempfile.TemporaryDirectory() as cwd:
        baseline = wall_time([sys.executable, "-c", "import pytorch_lightning"], args.repeat, cwd)
        print(f"baseline  python -c 'import pytorch_lightning'  {baseline * 1000:8.1f} ms")
        failed = False
        for label, argv in (
            ("pegboard --help", ["--help"]),
            ("pegboard plugins", ["plugins"]),
            ("pegboard train --help", ["train", "--help"]),
            ("pegboard train --cfg job", ["train", "--cfg", "job"]),
        ):
            seconds = wall_time([pegboard, *argv], args.repeat, cwd)
            ratio = seconds / baseline
            verdict = "ok" if ratio <= TARGET_RATIO else "SLOWER THAN TARGET"
            failed |= ratio > TARGET_RATIO
            print(
                f"{label:<26} {seconds * 1000:8.1f} ms  ratio {ratio:5.3f} "
                f"(target <= {TARGET_RATIO})  {verdict}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
