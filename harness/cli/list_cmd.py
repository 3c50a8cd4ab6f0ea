"""``unibridge-bench list``: registered suites, methods, backbones, tasks and tables, each described.

Each registry entry ends with its origin in brackets: ``[built-in]``, the plugin package and
version with its entry point, or the included file (:mod:`harness.plugins`).
"""

from __future__ import annotations

import click

from harness.cli.common import UserError, activate_plugins, include_option
from harness.cli.suites import named_suites, suite_description
from harness.plugins.loading import PluginError
from harness.plugins.registries import kinds, registry

#: What ``list`` shows: the suites and every plugin-extensible registry (one row each in
#: :data:`harness.plugins.registries.REGISTRIES`, the executors last).
KINDS = ("suites", *kinds())


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@include_option
def list_(kind):
    """List what can be named in a suite (everything, or one KIND), one line each, with its origin.

    Installed plugin packages and --include folders are listed too; a plugin that cannot be
    used is named after the list, which then ends with exit code 2.

    \b
    Example:
      unibridge-bench list methods
      unibridge-bench list methods --include my_plugins/
      unibridge-bench list suites
    """
    from harness.core.origins import origin_of

    try:
        activate_plugins()
    except PluginError as error:
        problem = error
    else:
        problem = None
    for name in KINDS:
        if kind not in (None, name):
            continue
        if name == "suites":
            entries = {suite: suite_description(path) for suite, path in named_suites().items()}
        else:  # each registry's module imported now, only when its kind is listed
            entries = {entry: f"{registry(name).describe(entry)}  [{origin_of(name, entry).where}]"
                       for entry in registry(name).names()}
        click.echo(f"{name}:")
        width = max(map(len, entries), default=0)
        for entry, description in entries.items():
            click.echo(f"  {entry:<{width}}  {description}".rstrip())
        if not entries:
            click.echo("  (none)")
    if problem is not None:
        raise UserError(str(problem))
