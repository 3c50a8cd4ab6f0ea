"""``unibridge-bench plan``: the stages a suite needs per kind, how many are shared, and their cost."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from tabulate import tabulate

from harness.cli.common import load_plan, only_option, suite_argument, user_errors
from harness.costs import (
    REFERENCES,
    measured_hours,
    per_method_hours,
    stage_costs,
    stage_hours,
    total_hours,
)
from harness.runner import CACHE_DIR, JobGraph


@click.command("plan")
@suite_argument
@only_option
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where measured stage timings are read (default: runs/<suite name>).")
@user_errors
def plan(suite_file, only, workdir):
    """Count the stages of SUITE.yaml per kind and estimate GPU-hours with and without sharing.

    'stages': distinct stages (each runs once); 'shared': needed by more than one job; 'uses':
    stages summed over jobs, as if each job built its whole graph alone. Hours per stage are
    the mean of that kind's finished stages in the workdir's cache when there are any, else the
    paper's T4 figures (2.5 h per language adapter, 0.5 h per task adapter) scaled by each
    stage's steps x batch against the paper's schedule (the output states the assumptions);
    other kinds are not costed. Data that cannot be read here (a folder not yet filled) is named on stderr and
    counted all the same: the counts need the graph's shape, not the data.

    \b
    Example:
      unibridge-bench plan suites/wikiann.yaml --only backbone=xlm-roberta-base
    """
    loaded = replace(load_plan(suite_file, check_data=False, only=only), provisional_data=True)
    graph = JobGraph.of(loaded, loaded.selected)
    for what, why in loaded.env.unavailable.items():
        click.echo(f"not readable here, counted all the same: {what}: {why}", err=True)
    workdir = workdir or Path("runs") / loaded.suite.name
    hours_of = stage_hours(measured_hours(workdir / CACHE_DIR))
    rows = stage_costs(graph.stages, graph.sharing(), hours_of=hours_of)
    table = [(r.kind, r.stages, r.shared, r.uses, _hours(r.hours), _hours(r.total(True)),
              _hours(r.total(False)), r.source) for r in rows]
    click.echo(tabulate(table, headers=["stage", "stages", "shared", "uses", "h/stage",
                                        "h shared", "h unshared", "hours from"],
                        disable_numparse=True))
    click.echo(f"{len(graph.finals)} jobs, {len(graph.stages)} stages")
    with_sharing, without = total_hours(rows, True), total_hours(rows, False)
    if without:
        alone = per_method_hours(graph.finals, hours_of)
        click.echo(f"GPU-hours (costed kinds): {_total(with_sharing)} with sharing, {_total(without)} without; "
                   f"sharing saves {100 * (1 - with_sharing / without):.1f} %")
        click.echo(f"each method sharing only its own stages: {_total(alone)}; sharing across methods "
                   f"saves {100 * (1 - with_sharing / alone):.1f} % of that")
    if any(row.source.startswith("paper") for row in rows):
        click.echo(PAPER_ASSUMPTIONS)


#: How the paper's T4 figures are scaled to a suite's schedules (harness.costs).
PAPER_ASSUMPTIONS = "\n".join(
    ["paper T4 x steps: the paper's T4 hours per stage, scaled by the stage's steps x batch "
     "against the paper's (hours linear in examples trained on); steps are max_steps where set, "
     "else epochs over the paper's data size:"]
    + [f"  {kind}: {ref.t4_hours} h for {ref.epochs:g} epochs x batch {ref.batch_size} over "
       f"{ref.note} = {ref.steps:,} steps" for kind, ref in REFERENCES.items() if ref.t4_hours])


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _total(hours: float) -> str:
    """One decimal, as the docs quote the paper suites; three significant digits below 10 h."""
    return f"{hours:.1f}" if hours >= 10 else f"{hours:.3g}"
