"""``unibridge-bench plan``: how many stages of each kind a suite needs, and how many are shared."""

from __future__ import annotations

from collections import Counter

import click
from tabulate import tabulate

from harness.cli.common import load_plan, only_option, parse_filters, suite_argument, user_errors
from harness.planning import filter_jobs
from harness.runner import JobGraph


@click.command("plan")
@suite_argument
@only_option
@user_errors
def plan(suite_file, only):
    """Count the stages of SUITE.yaml per kind; 'shared' = used by more than one job.

    \b
    Example:
      unibridge-bench plan suites/wikiann.yaml --only backbone=xlm-roberta-base
    """
    loaded = load_plan(suite_file, check_data=False)
    graph = JobGraph.of(loaded, filter_jobs(loaded.jobs, parse_filters(only)))
    sharing = graph.sharing()
    stages, shared = Counter(), Counter()
    for stage in graph.stages:
        stages[stage.kind] += 1
        shared[stage.kind] += sharing[stage.key] > 1
    rows = [(kind, stages[kind], shared[kind]) for kind in sorted(stages)]
    click.echo(tabulate(rows, headers=["stage", "jobs", "shared"]))
    click.echo(f"{len(graph.finals)} jobs, {len(graph.stages)} stages")
