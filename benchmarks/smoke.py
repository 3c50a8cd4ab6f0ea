"""Cold and warm wall and CPU time, per-kind table and peak memory of the smoke suite, against targets.

Usage::

    python benchmarks/smoke.py [--suite suites/smoke.yaml] [--quick]
    python benchmarks/smoke.py --workdir /tmp/smoke-wd      # keep the workdir; reuse it next time
    python benchmarks/smoke.py --workdir /tmp/smoke-wd --warm-runs 5 --breakdown

Runs ``unibridge-bench run`` in a fresh work directory, each run in its own process: the cold run
computes every stage, the warm runs must find them all cached. A ``--workdir`` that already
holds a finished run of the suite skips the cold run (it says so). The first warm run may still
render the report (a workdir whose report predates the check of its inputs); the figure is the
median of the warm runs after it. Peak memory is the largest resident set size of the child
processes (``getrusage(RUSAGE_CHILDREN).ru_maxrss``). ``--quick`` restricts the suite to one
backbone (tiny-xlmr). ``--breakdown`` runs one more warm run under cProfile and prints where it
went (cumulative seconds, inflated by the profiler): start-up imports, the plan with its data
checks, the cache checks and records, run.json, the report.

The cold run's CPU time is its processes' user + system seconds (the command and its worker
processes, ``getrusage(RUSAGE_CHILDREN)``): on a shared machine wall time says how busy the
others were, CPU time what the run cost. The per-kind table reads the ``seconds`` of every stage
manifest in the workdir (count, seconds each, share of the stages' total): where a cold run goes.

Targets: a warm re-run of the smoke suite, every stage cached, in at most 3 s (issue 24); a cold
run in at most 90 s of wall time on 2 quiet cores (issue 32).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM_TARGET_S = 3.0
COLD_TARGET_S = 90.0
#: Phases of a warm run in the profile: (label, file, function).
PHASES = [("whole command", "harness/cli/run.py", "run"),
          ("plan: suite, methods, data checks", "harness/cli/common.py", "load_plan"),
          ("  of it: data checks", "harness/planning/validation.py", "data_problems"),
          ("run_jobs: graph, cache checks, records", "harness/run/runner.py", "run_jobs"),
          ("  of it: graph", "harness/run/runner.py", "of"),
          ("  of it: checksums of what is read", "harness/run/runner.py", "verify_cached_reads"),
          ("  of it: records", "harness/run/records.py", "make_record"),
          ("  of it: results.jsonl", "harness/run/runner.py", "write_results_file"),
          ("run.json", "harness/report/manifest.py", "write_manifest"),
          ("report (kept or rendered)", "harness/report/write.py", "write_report")]


def run_command(suite: Path, workdir: Path, extra: list[str]) -> list[str]:
    return ["-m", "harness.cli.main", "run", str(suite), "--workdir", str(workdir), "--device", "cpu",
            *extra]


def timed_run(suite: Path, workdir: Path, extra: list[str], profile: Path | None = None) -> float:
    """Wall seconds of one ``run`` in its own process; under cProfile, saved to ``profile``, if given."""
    return cpu_timed_run(suite, workdir, extra, profile)[0]


def cpu_timed_run(suite: Path, workdir: Path, extra: list[str],
                  profile: Path | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system, its worker processes included) seconds of one ``run``."""
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile is not None else []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *profiler, *run_command(suite, workdir, extra)], check=True,
                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def kind_table(workdir: Path) -> list[tuple[str, int, float, float]]:
    """(kind, stages, seconds each, share of the total) from the stage manifests, largest first."""
    seconds: dict[str, list[float]] = {}
    for manifest in (workdir / "cache").glob("*/*/manifest.json"):
        built = json.loads(manifest.read_text()).get("seconds")
        if isinstance(built, (int, float)):
            seconds.setdefault(manifest.parent.parent.name, []).append(float(built))
    total = sum(sum(values) for values in seconds.values()) or 1.0
    rows = [(kind, len(values), sum(values) / len(values), sum(values) / total)
            for kind, values in seconds.items()]
    return sorted(rows, key=lambda row: -row[1] * row[2])


def print_kind_table(workdir: Path) -> None:
    rows = kind_table(workdir)
    print(f"stages by kind (manifests' seconds, {sum(r[1] for r in rows)} stages):")
    print(f"  {'kind':20s} {'count':>5s} {'s each':>7s} {'share':>6s}")
    for kind, count, each, share in rows:
        print(f"  {kind:20s} {count:5d} {each:7.2f} {share:6.1%}")


def breakdown(suite: Path, workdir: Path, extra: list[str]) -> None:
    """One warm run under cProfile; the cumulative seconds of each phase of :data:`PHASES`."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "warm.prof"
        whole = timed_run(suite, workdir, extra, profile)
        stats = pstats.Stats(str(profile)).stats
    print(f"breakdown (one warm run under cProfile: {whole:.2f} s wall, profiler included)")
    print(f"  {'start-up (interpreter, imports before the command)':45s} "
          f"{whole - cumulative(stats, *PHASES[0][1:]):6.2f} s")
    for label, file, function in PHASES:
        print(f"  {label:45s} {cumulative(stats, file, function):6.2f} s")


def cumulative(stats: dict, file: str, function: str) -> float:
    """Cumulative seconds of ``function`` defined in ``file`` (a path under the repository)."""
    return sum(entry[3] for (path, _, name), entry in stats.items()
               if name == function and path.endswith(file))


def is_finished(workdir: Path) -> bool:
    return (workdir / "results.jsonl").is_file() and (workdir / "run.json").is_file()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "smoke.yaml")
    parser.add_argument("--quick", action="store_true", help="tiny-xlmr jobs only")
    parser.add_argument("--workdir", type=Path, help="work directory to keep (and to reuse)")
    parser.add_argument("--warm-runs", type=int, default=3, help="warm runs after the first")
    parser.add_argument("--breakdown", action="store_true", help="profile one more warm run")
    args = parser.parse_args()
    extra = ["--only", "backbone=tiny-xlmr"] if args.quick else []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        load_before = os.getloadavg()[0]
        cold, cold_cpu = (None, None) if is_finished(workdir) else cpu_timed_run(args.suite, workdir, extra)
        table = kind_table(workdir)
        first = timed_run(args.suite, workdir, extra)
        warm = [timed_run(args.suite, workdir, extra) for _ in range(args.warm_runs)]
        if args.breakdown:
            breakdown(args.suite, workdir, extra)
        if table:
            print_kind_table(workdir)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    median = statistics.median(warm) if warm else first
    print(f"suite: {args.suite.name}{' (quick: tiny-xlmr only)' if args.quick else ''}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if cold is not None:
        print(f"cold run: {cold:8.1f} s wall, {cold_cpu:.1f} s CPU (user + sys; load average "
              f"{load_before:.1f} before it)")
        if args.quick:
            print("target: cold run <= 90 s wall applies to the whole suite, not --quick")
        else:
            print(f"target: cold run <= {COLD_TARGET_S:.0f} s wall on 2 quiet cores: "
                  f"{'met' if cold <= COLD_TARGET_S else 'not met'} here (load average above)")
    else:
        print(f"cold run: skipped ({workdir} holds a run)")
    print(f"first warm run: {first:6.2f} s (may render the report)")
    print(f"warm run: {median:8.2f} s (median of {len(warm)}: {', '.join(f'{s:.2f}' for s in warm)}; "
          f"everything cached)")
    print(f"target: warm run <= {WARM_TARGET_S:.0f} s: {'met' if median <= WARM_TARGET_S else 'not met'}")
    print(f"peak RSS: {peak_mib:8.0f} MiB")


if __name__ == "__main__":
    main()
