"""Cold and warm wall time and peak memory of the smoke suite.

Usage: python benchmarks/smoke.py [--suite suites/smoke.yaml] [--quick]

Runs ``unibridge-bench run`` twice in a fresh work directory, each in its own process: the cold
run computes every stage, the warm run must find them all cached. Peak memory is the largest
resident set size of the child processes (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).
``--quick`` restricts the suite to one backbone (tiny-xlmr).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_run(suite: Path, workdir: Path, extra: list[str]) -> float:
    command = [sys.executable, "-m", "harness.cli.main", "run", str(suite), "--workdir", str(workdir),
               "--device", "cpu", *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "smoke.yaml")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    extra = ["--only", "backbone=tiny-xlmr"] if args.quick else []
    with tempfile.TemporaryDirectory() as tmp:
        cold = timed_run(args.suite, Path(tmp), extra)
        warm = timed_run(args.suite, Path(tmp), extra)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"suite: {args.suite.name}{' (quick: tiny-xlmr only)' if args.quick else ''}")
    print(f"cold run: {cold:8.1f} s")
    print(f"warm run: {warm:8.1f} s (everything cached)")
    print(f"peak RSS: {peak_mib:8.0f} MiB")


if __name__ == "__main__":
    main()
