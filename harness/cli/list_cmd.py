"""``unibridge-bench list``: registered suites, methods, backbones, tasks and tables, each described."""

from __future__ import annotations

import click

from harness.cli.suites import named_suites, suite_description

KINDS = ("suites", "methods", "backbones", "tasks", "tables", "executors")


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
def list_(kind):
    """List what can be named in a suite (everything, or one KIND), one line each.

    \b
    Example:
      unibridge-bench list methods
      unibridge-bench list suites
    """
    from harness.backbones import BACKBONES
    from harness.catalog import EXECUTORS, METHODS, TABLES
    from harness.tasks import TASKS

    registries = {"methods": METHODS, "backbones": BACKBONES, "tasks": TASKS, "tables": TABLES,
                  "executors": EXECUTORS}
    for name in KINDS:
        if kind not in (None, name):
            continue
        if name == "suites":
            entries = {suite: suite_description(path) for suite, path in named_suites().items()}
        else:
            entries = {entry: registries[name].describe(entry) for entry in registries[name].names()}
        click.echo(f"{name}:")
        width = max(map(len, entries), default=0)
        for entry, description in entries.items():
            click.echo(f"  {entry:<{width}}  {description}".rstrip())
        if not entries:
            click.echo("  (none)")
