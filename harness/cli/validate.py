"""``unibridge-bench validate``: check a suite without running anything."""

from __future__ import annotations

import click

from harness.cli.common import load_plan, suite_argument, user_errors


@click.command("validate")
@suite_argument
@click.option("--no-data-check", is_flag=True, help="Skip checking that every dataset is reachable.")
@user_errors
def validate(suite_file, no_data_check):
    """Check SUITE.yaml: schema, names, hyperparameters, compatibility and data.

    \b
    Example:
      unibridge-bench validate suites/wikiann.yaml
    """
    plan = load_plan(suite_file, check_data=not no_data_check)
    click.echo(f"{suite_file}: ok ({len(plan.jobs)} jobs)")
    for note in plan.notes:
        click.echo(f"note: {note}")
