"""``unibridge-bench validate``: check a suite without running anything."""

from __future__ import annotations

import click

from harness.cli.common import (
    include_option,
    load_plan,
    only_option,
    setup_logging,
    suite_argument,
    user_errors,
    verbose_option,
)


@click.command("validate")
@suite_argument
@include_option
@only_option
@click.option("--no-data-check", is_flag=True, help="Skip checking that every dataset is reachable.")
@verbose_option
@user_errors
def validate(suite_file, only, no_data_check, verbose):
    """Check SUITE.yaml: schema, names, hyperparameters, compatibility and data.

    With --only, the data checked is what the selected jobs read (as for run).

    \b
    Example:
      unibridge-bench validate suites/wikiann.yaml
      unibridge-bench validate suites/wikiann.yaml --only lang=amh --only method=unibridge
    """
    setup_logging(verbose)
    plan = load_plan(suite_file, check_data=not no_data_check, only=only)
    selected = f", {len(plan.selected)} selected" if only else ""
    click.echo(f"{suite_file}: ok ({len(plan.jobs)} jobs{selected})")
    for note in plan.notes:
        click.echo(f"note: {note}")
