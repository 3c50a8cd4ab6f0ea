"""Stopping a run with Ctrl-C or SIGTERM: one line that says what finished and how to resume.

Example::

    with stop_requests():
        run_jobs(plan, jobs, options)
    # on Ctrl-C / SIGTERM: "stopped by SIGTERM: 3 of 8 jobs finished (results in
    # runs/smoke/results.jsonl); resume with: unibridge-bench run suites/smoke.yaml --workdir ..."
    # and exit code 130 / 143 (128 + the signal's number, as shells report it)

SIGTERM (a scheduler's or ``kill``'s request to stop) is turned into the exception Ctrl-C
raises (:mod:`harness.core.stop_signals`), so both unwind alike: the running stage's temporary
directory is removed, every finished artifact and result record stays, and ``results.jsonl``
is rewritten for the jobs that finished (:func:`harness.run.runner.run_jobs`). Resuming is running
the same command again (without ``--rerun``, which would recompute what already finished).
"""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import click

from harness.core.stop_signals import Terminated
from harness.run.records import RESULTS_FILE, read_results
from harness.suite.schema import Job


def resume_command(suite_file: Path, workdir: Path, options: dict[str, object]) -> str:
    """The ``unibridge-bench run`` command line that carries on a stopped run.

    ``options`` maps option names to values (a tuple for a repeatable option, None for unset).
    """
    words = ["unibridge-bench", "run", str(suite_file), "--workdir", str(workdir)]
    for name, value in options.items():
        for item in value if isinstance(value, tuple) else (value,):
            if item is not None:
                words += [f"--{name}", str(item)]
    return shlex.join(words)


def report_stop(stop: KeyboardInterrupt, jobs: list[Job], workdir: Path, resume: str) -> None:
    """Say in one line what finished and how to resume; exit with 128 + the signal's number."""
    path = workdir / RESULTS_FILE
    wanted = {job.job_id for job in jobs}
    finished = sum(r.job_id in wanted for r in read_results(path)) if path.is_file() else 0
    signum = signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT
    cause = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    click.echo(f"\nstopped by {cause}: {finished} of {len(jobs)} jobs finished (results in {path}); "
               f"resume with: {resume}", err=True)
    raise SystemExit(128 + signum)
