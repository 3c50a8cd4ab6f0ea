"""CPU and wall time of a reduced smoke run, quiet and beside busy processes of its own.

Usage::

    python benchmarks/contention.py                  # quiet, then beside N = 2 × usable CPUs busy processes
    python benchmarks/contention.py --busy 4 --busy 8
    python benchmarks/contention.py --threads 2      # every stage at 2 threads (UNIBRIDGE_THREADS)
    python benchmarks/contention.py --spin           # OMP_WAIT_POLICY=ACTIVE: the pools spin

Runs ``unibridge-bench run suites/smoke.yaml --only backbone=tiny-xlmr --only task=ner --only
method=unibridge`` (issue 32's reduced selection) in a fresh workdir, each run in its own
process, first on the quiet machine, then with N busy processes (a pure-Python loop each)
beside it; prints per run the user+system CPU seconds of the run's process tree
(``RUSAGE_CHILDREN``) and its wall seconds, and the CPU ratio against the quiet run.

Target (issue 32): at 2 × oversubscription (busy processes = 2 × the usable CPUs), CPU within
1.2 × the quiet run's. The machine must be otherwise quiet for the figures to mean anything:
the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SELECTION = ["--only", "backbone=tiny-xlmr", "--only", "task=ner", "--only", "method=unibridge"]
CPU_RATIO_TARGET = 1.2


def busy(stop: multiprocessing.Event) -> None:
    """Spin on a core until told to stop (a neighbour that wants all of its core)."""
    count = 0
    while not stop.is_set():
        for _ in range(100_000):
            count += 1


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one cold reduced smoke run in a fresh workdir."""
    with tempfile.TemporaryDirectory() as workdir:
        cpu, start = children_cpu(), time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness.cli.main", "run", "suites/smoke.yaml",
                        "--workdir", workdir, "--device", "cpu", *SELECTION],
                       check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return children_cpu() - cpu, time.perf_counter() - start


def beside(n_busy: int, env: dict[str, str]) -> tuple[float, float]:
    stop = multiprocessing.Event()
    workers = [multiprocessing.Process(target=busy, args=(stop,), daemon=True) for _ in range(n_busy)]
    for worker in workers:
        worker.start()
    try:
        return one_run(env)
    finally:
        stop.set()
        for worker in workers:
            worker.join()


def main() -> None:
    from harness.core.threads import THREADS_ENV, usable_cpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, action="append",
                        help="busy processes beside the run (repeatable; default 2 × usable CPUs)")
    parser.add_argument("--threads", type=int, help="UNIBRIDGE_THREADS for every stage")
    parser.add_argument("--spin", action="store_true", help="OMP_WAIT_POLICY=ACTIVE (spinning pools)")
    args = parser.parse_args()
    cpus = usable_cpus()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if args.threads:
        env[THREADS_ENV] = str(args.threads)
    if args.spin:
        env.update(OMP_WAIT_POLICY="ACTIVE", KMP_BLOCKTIME="200")
    print(f"usable CPUs {cpus}; load average before: {os.getloadavg()[0]:.2f}; "
          f"threads {args.threads or 'per stage'}; pools {'spin' if args.spin else 'passive'}")
    one_run(env)  # warm the page cache and the interpreter's files; not counted
    quiet_cpu, quiet_wall = one_run(env)
    print(f"{'beside':>8} {'CPU s':>8} {'wall s':>8} {'CPU ratio':>10}")
    print(f"{'quiet':>8} {quiet_cpu:8.1f} {quiet_wall:8.1f} {1.0:10.2f}")
    worst = 1.0
    for n_busy in args.busy or [2 * cpus]:
        cpu, wall = beside(n_busy, env)
        ratio = cpu / quiet_cpu
        print(f"{n_busy:>8} {cpu:8.1f} {wall:8.1f} {ratio:10.2f}")
        if n_busy == 2 * cpus:
            worst = ratio
    print(f"target: CPU ratio at {2 * cpus} busy processes <= {CPU_RATIO_TARGET}: "
          f"{'met' if worst <= CPU_RATIO_TARGET else 'missed'} ({worst:.2f})")


if __name__ == "__main__":
    main()
