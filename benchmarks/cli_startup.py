"""Wall time of the light CLI commands, which must not import torch or transformers.

Usage::

    python benchmarks/cli_startup.py              # 5 runs of each command, medians
    python benchmarks/cli_startup.py --runs 10

Each command runs in a fresh interpreter (``python -X importtime -m harness.cli.main ...``) from
the repository root, as a user would start it; the figure is the wall time of the whole process.
The importtime log shows whether torch or transformers were imported.

Target: every command under 1.5 s on the development machine (2 shared cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [["--help"], ["list"], ["run", "--help"], ["validate", "suites/smoke.yaml"],
            ["plan", "suites/smoke.yaml"]]
HEAVY = ("torch", "transformers")
TARGET_S = 1.5


def timed_run(command: list[str]) -> tuple[float, set[str]]:
    """Wall seconds of one run of ``command`` and the heavy top-level modules it imported."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "harness.cli.main", *command],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    return seconds, {name for name in HEAVY if name in imported}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (median reported)")
    options = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"median of {options.runs} runs; target < {TARGET_S} s")
    for command in COMMANDS:
        results = [timed_run(command) for _ in range(options.runs)]
        median = statistics.median(seconds for seconds, _ in results)
        heavy = set().union(*(names for _, names in results))
        verdict = "ok" if median < TARGET_S and not heavy else "MISSED"
        print(f"  unibridge-bench {' '.join(command):28s} {median:5.2f} s  "
              f"(min {min(s for s, _ in results):.2f}, max {max(s for s, _ in results):.2f})  "
              f"imports {', '.join(sorted(heavy)) or 'neither torch nor transformers'}  {verdict}")


if __name__ == "__main__":
    main()
