"""``unibridge-bench list``: registered suites, methods, backbones, tasks and tables."""

from __future__ import annotations

from pathlib import Path

import click

SUITES_DIR = Path("suites")


@click.command("list")
@click.argument("kind", required=False,
                type=click.Choice(["suites", "methods", "backbones", "tasks", "tables", "executors"]))
def list_(kind):
    """List what can be named in a suite (everything, or one KIND).

    \b
    Example:
      unibridge-bench list methods
    """
    from harness.backbones import BACKBONES
    from harness.catalog import EXECUTORS, METHODS, TABLES
    from harness.tasks import TASKS

    listings = {
        "suites": sorted(p.stem for p in SUITES_DIR.glob("*.yaml")),
        "methods": METHODS.names(),
        "backbones": BACKBONES.names(),
        "tasks": TASKS.names(),
        "tables": TABLES.names(),
        "executors": EXECUTORS.names(),
    }
    for name, values in listings.items():
        if kind in (None, name):
            click.echo(f"{name}: {', '.join(values) or '(none)'}")
