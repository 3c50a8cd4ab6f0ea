"""``unibridge-bench run``: run a suite with caching and resume."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from harness.cli import command_started
from harness.cli.common import (
    UserError,
    include_option,
    load_plan,
    only_option,
    setup_logging,
    suite_argument,
    user_errors,
    verbose_option,
)
from harness.cli.stopping import report_stop, resume_command
from harness.core.config import MAX_SEED
from harness.core.registry import UnknownNameError
from harness.core.shortfalls import SHOWN, summary_line
from harness.core.stop_signals import stop_requests
from harness.core.threads import forced_threads
from harness.core.workdir import out_of_space_stops
from harness.planning.costs import stage_seconds
from harness.report.manifest import manifest_of, write_manifest
from harness.report.write import write_report, written_summary
from harness.run.executors.catalog import EXECUTORS
from harness.run.executors.local import forced_workers
from harness.run.progress import format_seconds
from harness.run.progress import log as progress_log
from harness.run.records import RESULTS_FILE
from harness.run.runner import CACHE_DIR, JobGraph, RunOptions, RunReport, run_jobs
from harness.training.arguments import PRECISIONS, precision_flags

log = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cuda`` with none is an error.

    Raises:
        UserError: ``cuda`` was asked for and torch sees no GPU (checked before any stage runs).
    """
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise UserError("--device cuda: torch sees no CUDA GPU on this machine "
                        "(torch.cuda.is_available() is False; check the driver, CUDA_VISIBLE_DEVICES "
                        "and that torch was built with CUDA); use --device cpu or --device auto")
    return "cpu"


def check_precision(device: str, precision: str) -> None:
    """Refuse a ``--precision`` the device cannot train in, before any stage runs.

    Raises:
        UserError: fp16 on the CPU (the Trainer has no CPU fp16 autocast), or bf16 on a GPU
            without it (T4-class cards: compute capability below 8.0).
    """
    if precision == "fp16" and device != "cuda":
        raise UserError("--precision fp16: mixed fp16 training needs --device cuda; on the CPU "
                        "use --precision fp32 (the default there) or bf16")
    if precision == "bf16" and device == "cuda":
        import torch

        if not torch.cuda.is_bf16_supported():
            raise UserError(f"--precision bf16: {torch.cuda.get_device_name(0)} does not support "
                            f"bf16 (compute capability below 8.0); use --precision fp16 (the "
                            f"default on CUDA) or fp32")


def describe_device(device: str, precision: str = "auto") -> str:
    """What the page header says the run trained on: ``cpu``, ``cuda (<GPU 0>), fp16``, ``cpu, bf16``.

    The precision is named on CUDA and wherever it is not the default.
    """
    named = device
    if device == "cuda":
        import torch

        named = f"cuda ({torch.cuda.get_device_name(0)})"
    flags = precision_flags(device, precision)
    used = "fp16" if flags["fp16"] else "bf16" if flags["bf16"] else "fp32"
    return named if device != "cuda" and precision == "auto" else f"{named}, {used}"


@click.command("run")
@suite_argument
@include_option
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where cache and results go (default: runs/<suite name>).")
@only_option
@click.option("--dry-run", is_flag=True, help="List the jobs and which are cached; run nothing.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="Mixed precision of the training stages: auto is fp16 on CUDA (the paper's T4 "
                   "setting) and fp32 on the CPU; bf16 needs a card that has it (A100, H100, ...). "
                   "Like --device it does not enter the cache keys: compare precisions in "
                   "separate workdirs.")
@click.option("--executor", default="local", show_default=True, metavar="NAME",
              help="local: stages one after another here; ray: stages as tasks on a Ray instance "
                   "(RAY_ADDRESS, else a local one), the workdir on a filesystem all nodes share; "
                   "or a plugin's (unibridge-bench list executors).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED),
              help="Run this seed only (overrides the suite's seeds).")
@click.option("--rerun", multiple=True, metavar="KIND",
              help="Recompute stages of this kind even when cached, and every stage built on them "
                   "(e.g. evaluation, language_adapter); repeatable.")
@verbose_option
@user_errors
def run(suite_file, workdir, only, dry_run, device, precision, executor, seed, rerun, verbose):
    """Run every job of SUITE.yaml; finished stages are reused.

    \b
    Example:
      unibridge-bench run suites/smoke.yaml
      unibridge-bench run suites/wikiann.yaml --only method=unibridge --only lang=amh --device cuda
    """
    started = command_started()  # the wall time counts the imports and the planning too
    setup_logging(verbose)
    forced_threads()  # a bad UNIBRIDGE_THREADS or UNIBRIDGE_WORKERS is said before planning
    forced_workers()
    if not dry_run:  # before the plan, so that a missing GPU is the first thing said
        device = resolve_device(device)
        check_precision(device, precision)
    plan = load_plan(suite_file, seed, only=only)
    check_executor(executor)  # after load_plan: plugins (the suite's include: too) may add one
    jobs = plan.selected
    workdir = workdir or Path("runs") / plan.suite.name
    if dry_run:
        _print_dry_run(plan, jobs, workdir)
        return
    options = RunOptions(workdir, device, executor, frozenset(rerun), progress=sys.stderr.isatty(),
                         precision=precision, started=started)
    try:
        # bars only on a terminal: in a log file every redraw would be a line of its own, and a
        # line per finished job and per long stage (harness.run.progress) says instead that it runs
        with stop_requests(), progress_lines(not sys.stderr.isatty()):
            report = run_jobs(plan, jobs, options)
    except KeyboardInterrupt as stop:
        resume = {"only": only, "device": device, "executor": executor, "seed": seed,
                  "precision": None if precision == "auto" else precision}
        report_stop(stop, jobs, workdir, resume_command(suite_file, workdir, resume))
    why = {job.job_id: failure.reason for job, failure in report.failed_jobs.items()}
    with out_of_space_stops(workdir, "writing run.json and the report"):
        write_manifest(workdir, manifest_of(plan, jobs, why, describe_device(device, precision)))
        # every table, figure and report.html its results allow; kept when nothing it shows changed
        written = write_report(workdir, keep_unchanged=True)
    _print_summary(report, workdir, written)
    _print_time(started, workdir / CACHE_DIR, verbose, report.shortfalls)
    if report.failures:
        raise SystemExit(1)


@contextmanager
def progress_lines(enabled: bool) -> Iterator[None]:
    """Within the block, the progress lines of :mod:`harness.run.progress` are logged if ``enabled``.

    The logger's level is put back afterwards, so that a command run in a process that goes on
    (a test, a notebook) leaves no lines switched on for later runs. Example::

        with progress_lines(not sys.stderr.isatty()):
            report = run_jobs(plan, jobs, options)
    """
    previous = progress_log.level
    if enabled:
        progress_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        progress_log.setLevel(previous)


def check_executor(name: str) -> None:
    """``--executor`` names a registered executor (built-in or a plugin's), else a UserError.

    ``describe`` imports nothing: the Ray executor's module is imported when it runs.
    """
    try:
        EXECUTORS.describe(name)
    except UnknownNameError as error:
        raise UserError(f"--executor: {error}") from error


def _print_summary(report: RunReport, workdir: Path, written: list[Path]) -> None:
    """Jobs and stages done and failed, each failed job with its cause, what was written."""
    failed = {failure.stage.key for failure in report.failures}
    skipped = sum(any(s.key in failed for s in f.stage.inputs.values()) for f in report.failures)
    raised = len(report.failures) - skipped
    jobs = len(report.jobs)
    elsewhere = f", {report.built_elsewhere} built by another run" if report.built_elsewhere else ""
    click.echo(f"{jobs} jobs: {jobs - len(report.failed_jobs)} finished, "
               f"{len(report.failed_jobs)} failed. {report.pending + report.cached} stages: "
               f"{report.built} run, "
               f"{raised} failed, {skipped} not run because an input failed, {report.cached} cached"
               f"{elsewhere}.")
    for job, failure in sorted(report.failed_jobs.items(), key=lambda item: item[0].job_id):
        click.echo(f"FAILED {job.job_id}: {failure.stage.title}: {failure.reason}", err=True)
    results = workdir / RESULTS_FILE
    if not results.is_file():
        click.echo("No results written.")
        return
    click.echo(f"Results: {results}")
    for line in written_summary(workdir, written):
        click.echo(line)


def _print_time(started: float, cache_root: Path, verbose: int, shortfalls: list[str]) -> None:
    """Data shortfalls in one line (``-v``: each), the wall time, and with ``-v`` the stage time per kind."""
    shortfalls = summary_line(shortfalls, shown=None if verbose else SHOWN)
    if shortfalls:
        click.echo(shortfalls)
    click.echo(f"Wall time: {format_seconds(time.time() - started)}.")
    if verbose:
        per_kind = stage_seconds(cache_root, since=started)
        for kind, seconds in sorted(per_kind.items(), key=lambda item: -sum(item[1])):
            click.echo(f"  {kind}: {format_seconds(sum(seconds))} in {len(seconds)} stages")


def _print_dry_run(plan, jobs, workdir: Path) -> None:
    from harness.core.graph import Cache

    graph = JobGraph.of(plan, jobs)
    cache = Cache(workdir / CACHE_DIR)
    for job, final in graph.finals.items():
        click.echo(f"{'cached ' if cache.is_done(final) else 'to run '} {job.job_id}")
    pending = sum(not cache.is_done(s) for s in graph.stages)
    click.echo(f"{len(jobs)} jobs, {len(graph.stages)} stages, {pending} to run")
