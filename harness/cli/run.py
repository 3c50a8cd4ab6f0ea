"""``unibridge-bench run``: run a suite with caching and resume."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from harness.catalog import EXECUTORS
from harness.cli.common import (
    UserError,
    load_plan,
    only_option,
    parse_filters,
    setup_logging,
    suite_argument,
    user_errors,
    verbose_option,
)
from harness.cli.stopping import report_stop, resume_command, stop_requests
from harness.planning import filter_jobs
from harness.report.manifest import manifest_of, write_manifest
from harness.report.write import write_report
from harness.results import RESULTS_FILE
from harness.runner import CACHE_DIR, JobGraph, RunOptions, run_jobs

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


@click.command("run")
@suite_argument
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where cache and results go (default: runs/<suite name>).")
@only_option
@click.option("--dry-run", is_flag=True, help="List the jobs and which are cached; run nothing.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--executor", type=click.Choice(EXECUTORS.names()), default="local", show_default=True,
              help="local: stages one after another here; ray: stages as tasks on a Ray instance "
                   "(RAY_ADDRESS, else a local one), the workdir on a filesystem all nodes share.")
@click.option("--seed", type=int, help="Run this seed only (overrides the suite's seeds).")
@click.option("--rerun", multiple=True, metavar="KIND",
              help="Recompute stages of this kind even when cached, and every stage built on them "
                   "(e.g. evaluation, language_adapter); repeatable.")
@verbose_option
@user_errors
def run(suite_file, workdir, only, dry_run, device, executor, seed, rerun, verbose):
    """Run every job of SUITE.yaml; finished stages are reused.

    \b
    Example:
      unibridge-bench run suites/smoke.yaml
      unibridge-bench run suites/wikiann.yaml --only method=unibridge --only lang=amh --device cuda
    """
    setup_logging(verbose)
    if not dry_run:  # before the plan, so that a missing GPU is the first thing said
        device = resolve_device(device)
    plan = load_plan(suite_file, seed)
    jobs = filter_jobs(plan.jobs, parse_filters(only))
    workdir = workdir or Path("runs") / plan.suite.name
    if dry_run:
        _print_dry_run(plan, jobs, workdir)
        return
    try:
        with stop_requests():
            report = run_jobs(plan, jobs, RunOptions(workdir, device, executor, frozenset(rerun)))
    except KeyboardInterrupt as stop:
        resume = {"only": only, "device": device, "executor": executor, "seed": seed}
        report_stop(stop, jobs, workdir, resume_command(suite_file, workdir, resume))
    write_manifest(workdir, manifest_of(plan, jobs, report.failed_jobs))
    write_report(workdir)  # every table, figure and report.html its results allow
    click.echo(f"{len(jobs)} jobs: {report.pending} stages run, {report.cached} cached; "
               f"results in {workdir / RESULTS_FILE}, tables in {workdir / 'tables'}, "
               f"report in {workdir / 'report.html'}")
    for failure in report.failures:
        click.echo(f"FAILED {failure.stage.label}: {failure.reason}", err=True)
    if report.failures:
        raise SystemExit(1)


def _print_dry_run(plan, jobs, workdir: Path) -> None:
    from harness.graph import Cache

    graph = JobGraph.of(plan, jobs)
    cache = Cache(workdir / CACHE_DIR)
    for job, final in graph.finals.items():
        click.echo(f"{'cached ' if cache.is_done(final) else 'to run '} {job.job_id}")
    pending = sum(not cache.is_done(s) for s in graph.stages)
    click.echo(f"{len(jobs)} jobs, {len(graph.stages)} stages, {pending} to run")
