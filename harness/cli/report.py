"""``unibridge-bench report``: render the paper's tables, figures and report.html from a run's results."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import UserError, activate_plugins, include_option, user_errors
from harness.report.render import FORMATS
from harness.report.specs import TABLE_SPECS
from harness.run.records import RESULTS_DIR, RESULTS_FILE

_NUMBERS = [spec.number for spec in TABLE_SPECS]


def _table_numbers(ctx, param, value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give table numbers separated by commas, e.g. 1,5,20") from None
    unknown = [n for n in numbers if n not in _NUMBERS]
    if unknown:
        raise click.BadParameter(
            f"no table {unknown[0]}; the paper's tables are {_NUMBERS[0]}–{_NUMBERS[-1]}")
    return numbers


def _results_of(workdir: Path) -> Path:
    results = workdir / RESULTS_FILE
    if not results.is_file() and not (workdir / RESULTS_DIR).is_dir():  # results/ rebuilds it
        raise UserError(f"{results}: no results yet; run a suite with --workdir {workdir} first")
    return results


@click.command("report")
@click.argument("workdirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--tables", "numbers", callback=_table_numbers, metavar="N,N,…",
              help="Only these paper tables (default: every table the results allow).")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format; repeatable (default: all of md, tex, csv, html).")
@click.option("--merge", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Add another run's records (e.g. an ALP-threshold run for Figure 3); repeatable.")
@click.option("--compare", is_flag=True,
              help="Two workdirs A B (e.g. a paper and an authors run): each side's fidelity profile, "
                   "B − A per paper table and per score, with paired tests.")
@click.option("--bootstrap-samples", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Bootstrap replicates of each cell's 95 % interval.")
@click.option("--rounds", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Approximate randomisation rounds of each paired test.")
@click.option("--statistics-seed", default=0, show_default=True, type=int,
              help="Seed of the bootstrap draws and the randomisation (same seed, same intervals).")
@click.option("--margin", default=1.0, show_default=True, type=click.FloatRange(min=0, max=100),
              help="Points of the metric: a cell is consistent with the paper when the 95 % interval "
                   "of ours − paper lies within ±margin, differs when it lies wholly outside.")
@include_option
@user_errors
def report(workdirs, numbers, formats, merge, compare, bootstrap_samples, rounds, statistics_seed, margin):
    """Write the paper's tables beside its numbers, figures and report.html into WORKDIR.

    Prints what it wrote in a few lines: the tables per format, the figures, the page. The
    tables of installed plugin packages and of --include folders are written too.

    \b
    Example:
      unibridge-bench report runs/smoke
      unibridge-bench report runs/wikiann --tables 1,5,20 --format md
      unibridge-bench report runs/eps5 --merge runs/eps10 --merge runs/eps15
      unibridge-bench report runs/wikiann --margin 2
      unibridge-bench report --compare runs/a runs/b --format md
    """
    from harness.report.write import write_report, written_summary
    from harness.statistics.config import StatisticsConfig

    statistics = StatisticsConfig(samples=bootstrap_samples, rounds=rounds, seed=statistics_seed,
                                  margin=margin)
    activate_plugins()

    for workdir in (*workdirs, *merge):
        _results_of(workdir)
    if compare:
        if len(workdirs) != 2:
            raise UserError(f"--compare needs two workdirs, got {len(workdirs)}")
        _print_comparison(workdirs, statistics, formats or ("md",))
        return
    if len(workdirs) != 1:
        raise UserError(f"report takes one workdir (got {len(workdirs)}); two go with --compare")
    written = write_report(workdirs[0], numbers, formats or FORMATS, merge, statistics)
    for line in written_summary(workdirs[0], written):
        click.echo(line)


def _print_comparison(workdirs, statistics, formats) -> None:
    """``--compare``: each side's line, B − A per paper table, every cell, the legend."""
    from harness.report.compare import COMPARE_LEGEND, compare
    from harness.report.tables import render

    comparison = compare(*workdirs, statistics=statistics)
    for line in comparison.sides:
        click.echo(line)
    for fmt in formats:
        click.echo("\nB − A per paper table and row:")
        none = "(no cell of a paper table in both runs)"
        click.echo(render(comparison.tables, fmt) if comparison.tables.rows else none)
        click.echo("Every cell:")
        click.echo(render(comparison.cells, fmt))
    click.echo(COMPARE_LEGEND.format(rounds=statistics.rounds, alpha=statistics.alpha))
