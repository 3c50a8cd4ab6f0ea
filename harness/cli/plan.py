"""``unibridge-bench plan``: the stages a suite needs per kind, how many are shared, and their cost."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from tabulate import tabulate

from harness.cli.common import (
    include_option,
    load_plan,
    only_option,
    setup_logging,
    suite_argument,
    user_errors,
)
from harness.cli.run import resolve_device
from harness.planning.costs import (
    REFERENCES,
    KindCost,
    measured_hours,
    per_method_hours,
    stage_costs,
    stage_hours,
    total_hours,
)
from harness.planning.plan import Plan
from harness.run.runner import CACHE_DIR, JobGraph


@click.command("plan")
@suite_argument
@include_option
@only_option
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Where measured stage timings are read (default: runs/<suite name>).")
@click.option("--calibrate", is_flag=True,
              help="Time a few training steps of each costed stage kind on --device and cost the "
                   "grid from them too (builds the stages they need under WORKDIR/calibration).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where --calibrate trains.")
@click.option("--steps", type=click.IntRange(min=1), default=3, show_default=True,
              help="Timed steps per stage kind with --calibrate (after one warm-up step).")
@user_errors
def plan(suite_file, only, workdir, calibrate, device, steps):
    """Count the stages of SUITE.yaml per kind and estimate GPU-hours with and without sharing.

    'stages': distinct stages (each runs once); 'shared': needed by more than one job; 'uses':
    stages summed over jobs, as if each job built its whole graph alone. Hours per stage are
    the mean of that kind's finished stages in the workdir's cache when there are any, else the
    paper's T4 figures (2.5 h per language adapter, 0.5 h per task adapter) scaled by each
    stage's steps x batch against the paper's schedule (the output states the assumptions);
    other kinds are not costed. Data that cannot be read here (a folder not yet filled) is
    named on stderr and counted all the same: the counts need the graph's shape, not the data.
    --calibrate reads the data and trains: it times one stage per costed kind, backbone and
    batch size and prints the grid's hours from those timings next to the paper's.

    \b
    Example:
      unibridge-bench plan suites/wikiann.yaml --only backbone=xlm-roberta-base
      unibridge-bench plan suites/smoke.yaml --calibrate --device cpu --steps 2
    """
    loaded = load_plan(suite_file, check_data=False, only=only)
    loaded = loaded if calibrate else replace(loaded, provisional_data=True)
    graph = JobGraph.of(loaded, loaded.selected)
    for what, why in loaded.env.unavailable.items():
        click.echo(f"not readable here, counted all the same: {what}: {why}", err=True)
    workdir = workdir or Path("runs") / loaded.suite.name
    hours_of = stage_hours(measured_hours(workdir / CACHE_DIR))
    sharing = graph.sharing()
    rows = print_costs(graph, sharing, hours_of, "GPU-hours (costed kinds)")
    if any(row.source.startswith("paper") for row in rows):
        click.echo(PAPER_ASSUMPTIONS)
    print_profile_sharing(loaded)
    if calibrate:
        print_calibration(graph, sharing, workdir, resolve_device(device), steps)


def print_profile_sharing(loaded: Plan) -> None:
    """How many stages the suite's fidelity profile shares with the other one (docs/fidelity.md)."""
    from harness.planning.plan import stages_shared_with

    mine = loaded.suite.fidelity
    other = "authors" if mine == "paper" else "paper"
    shared, total = stages_shared_with(loaded, other)
    click.echo(f"fidelity {mine}: {shared} of {total} stages are the same under the {other} "
               f"profile (built once when both runs share one cache folder: docs/fidelity.md)")


def print_costs(graph: JobGraph, sharing, hours_of, title: str) -> list[KindCost]:
    """The per-kind table and the totals of ``graph`` (``sharing``: its) with ``hours_of`` per stage."""
    rows = stage_costs(graph.stages, sharing, hours_of=hours_of)
    table = [(r.kind, r.stages, r.shared, r.uses, _hours(r.hours), _hours(r.total(True)),
              _hours(r.total(False)), r.source) for r in rows]
    click.echo(tabulate(table, headers=["stage", "stages", "shared", "uses", "h/stage",
                                        "h shared", "h unshared", "hours from"],
                        disable_numparse=True))
    click.echo(f"{len(graph.finals)} jobs, {len(graph.stages)} stages")
    with_sharing, without = total_hours(rows, True), total_hours(rows, False)
    if without:
        alone = per_method_hours(graph.finals, hours_of)
        click.echo(f"{title}: {_total(with_sharing)} with sharing, {_total(without)} without; "
                   f"sharing saves {100 * (1 - with_sharing / without):.1f} %")
        click.echo(f"each method sharing only its own stages: {_total(alone)}; sharing across "
                   f"methods saves {100 * (1 - with_sharing / alone):.1f} % of that")
    return rows


def print_calibration(graph: JobGraph, sharing, workdir: Path, device: str, steps: int) -> None:
    """Time the costed kinds on ``device``; print the grid's hours from them next to the paper's."""
    from harness.planning.calibration import CALIBRATION_CACHE, WARMUP_STEPS, calibrate, calibrated_hours

    setup_logging(0)  # the model libraries' warnings off, as in `run`
    timings = calibrate(graph.stages, workdir / CALIBRATION_CACHE, device, steps)
    click.echo(f"\ncalibrated on {device}: {steps} timed steps per stage kind, after "
               f"{WARMUP_STEPS} warm-up step")
    click.echo(tabulate([(t.kind, t.backbone, t.batch_size, f"{t.seconds_per_step:.4g}", t.steps)
                         for t in timings],
                        headers=["stage", "backbone", "batch", "s/step", "timed"],
                        disable_numparse=True))
    here = stage_costs(graph.stages, sharing, hours_of=calibrated_hours(timings))
    paper = {row.kind: row for row in stage_costs(graph.stages, sharing, hours_of=stage_hours({}))}
    table = [(r.kind, r.stages, r.uses, _hours(r.total(True)), _hours(r.total(False)),
              _hours(paper[r.kind].total(True)), _hours(paper[r.kind].total(False)))
             for r in here if r.hours_shared is not None]
    click.echo()
    click.echo(tabulate(table, headers=["stage", "stages", "uses", f"h shared {device}",
                                        f"h unshared {device}", "h shared T4", "h unshared T4"],
                        disable_numparse=True))
    click.echo(f"hours on {device} (measured kinds): {_total(total_hours(here, True))} with sharing, "
               f"{_total(total_hours(here, False))} without; paper T4 x steps (its kinds): "
               f"{_total(total_hours(paper.values(), True))} with sharing, "
               f"{_total(total_hours(paper.values(), False))} without")
    click.echo(CALIBRATION_ASSUMPTIONS)


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _total(hours: float) -> str:
    """One decimal, as the docs quote the paper suites; three significant digits below 10 h."""
    return f"{hours:.1f}" if hours >= 10 else f"{hours:.3g}"


#: What --calibrate's hours assume (harness.planning.calibration).
CALIBRATION_ASSUMPTIONS = (
    "measured here: one stage per kind, backbone and batch size trained for the warm-up and the "
    "timed steps (model and data loading, collation, evaluation and checkpoints not timed); each "
    "stage of that group costs the median step x its steps (linear in steps; max_steps where set, "
    "else epochs over the paper's data size, as above); the timed steps are a first epoch's, so a "
    "language adapter's include the KL teacher's pass over their sentences, which later epochs "
    "reuse (an overestimate for beta > 0)")


#: How the paper's T4 figures are scaled to a suite's schedules (harness.planning.costs).
PAPER_ASSUMPTIONS = "\n".join(
    ["paper T4 x steps: the paper's T4 hours per stage, scaled by the stage's steps x batch "
     "against the paper's (hours linear in examples trained on); steps are max_steps where set, "
     "else epochs over the paper's data size:"]
    + [f"  {kind}: {ref.t4_hours} h for {ref.epochs:g} epochs x batch {ref.batch_size} over "
       f"{ref.note} = {ref.steps:,} steps" for kind, ref in REFERENCES.items() if ref.t4_hours])
