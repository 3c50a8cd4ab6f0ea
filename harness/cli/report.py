"""``unibridge-bench report``: render the tables of a run directory from its results."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.common import UserError
from harness.report.tables import write_result_tables
from harness.results import RESULTS_FILE, read_results


@click.command("report")
@click.argument("workdir", type=click.Path(file_okay=False, path_type=Path))
def report(workdir: Path):
    """Write results tables (Markdown, LaTeX, CSV) into WORKDIR/tables.

    \b
    Example:
      unibridge-bench report runs/smoke
    """
    results = workdir / RESULTS_FILE
    if not results.is_file():
        raise UserError(f"{results}: no results yet; run a suite with --workdir {workdir} first")
    for path in write_result_tables(read_results(results), workdir / "tables"):
        click.echo(path)
