"""Start-up cost of the light CLI commands, which must not import torch or transformers.

Usage::

    python benchmarks/cli_startup.py              # 5 runs of each command, medians
    python benchmarks/cli_startup.py --runs 10

Each command runs in a fresh interpreter (``python -X importtime -m harness.cli.main ...``) from
the repository root, as a user would start it. The figures are the CPU time of the whole process
(user + system, from ``getrusage(RUSAGE_CHILDREN)``: steadier than wall time on shared cores)
and its wall time. The importtime log shows whether torch or transformers were imported.

Targets: ``--help`` and ``list`` at most 0.15 s of CPU on a quiet machine (each command's module
is imported only when it runs: harness/cli/lazy.py); every command under 1.5 s wall time on the
development machine (2 shared cores).
"""

from __future__ import annotations

import argparse
import os
import resource
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
#: CPU seconds (user + system) that --help and list may take on a quiet machine.
CPU_TARGETS_S = {("--help",): 0.15, ("list",): 0.15}


def timed_run(command: list[str]) -> tuple[float, float, set[str]]:
    """Wall and CPU seconds of one run of ``command``, and the heavy top-level modules it imported."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "harness.cli.main", *command],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    return seconds, cpu, {name for name in HEAVY if name in imported}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command (median reported)")
    options = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; median of {options.runs} runs; "
          f"targets: wall < {TARGET_S} s, CPU of --help and list <= 0.15 s on a quiet machine")
    for command in COMMANDS:
        results = [timed_run(command) for _ in range(options.runs)]
        wall = statistics.median(seconds for seconds, _, _ in results)
        cpu = statistics.median(cpu for _, cpu, _ in results)
        heavy = set().union(*(names for _, _, names in results))
        cpu_target = CPU_TARGETS_S.get(tuple(command))
        missed = wall >= TARGET_S or heavy or (cpu_target is not None and cpu > cpu_target)
        print(f"  unibridge-bench {' '.join(command):28s} CPU {cpu:5.2f} s "
              f"(min {min(c for _, c, _ in results):.2f})  wall {wall:5.2f} s "
              f"(min {min(s for s, _, _ in results):.2f}, max {max(s for s, _, _ in results):.2f})  "
              f"imports {', '.join(sorted(heavy)) or 'neither torch nor transformers'}  "
              f"{'MISSED' if missed else 'ok'}")


if __name__ == "__main__":
    main()
