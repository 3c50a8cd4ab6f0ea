"""A click group that imports a command's module only when that command runs.

Example::

    @click.group(cls=LazyGroup, lazy_commands={
        "run": ("harness.cli.run:run", "Run every job of SUITE.yaml; finished stages are reused."),
    })
    def cli():
        ...

    cli(["--help"])          # lists "run" with its summary; harness.cli.run is not imported
    cli(["run", "--help"])   # imports harness.cli.run, then shows its help

Each entry maps a command's name to ``"module:attribute"`` of its :class:`click.Command` and its
summary: the first sentence of the command's docstring, which the group's ``--help`` shows
(shortened as click shortens it) without importing the module. ``tests/test_cli_startup.py``
checks that every summary is the command's own. This is click's documented pattern for lazy
subcommands (``list_commands`` and ``get_command`` overridden).
"""

from __future__ import annotations

import importlib

import click
from click.utils import make_default_short_help


class LazyGroup(click.Group):
    """A :class:`click.Group` whose commands are ``"module:attribute"`` strings, imported on use."""

    def __init__(self, *args, lazy_commands: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted (the lazy ones and any added with ``add_command``)."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, its module imported now; None for an unknown name."""
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, attribute = self.lazy_commands[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise TypeError(f"{module}:{attribute} is not the click command {cmd_name!r}")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """As click's, with "Did you mean ...?" suggestions over the lazy names too."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:
            if error.possibilities:
                raise
            raise click.exceptions.NoSuchCommand(error.command_name, error.message,
                                                 self.list_commands(ctx), ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands:" section from the summaries in the table, importing no command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, make_default_short_help(self.lazy_commands[name][1], limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
