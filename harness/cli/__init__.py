"""Layer 13: the ``unibridge-bench`` commands: parse, call, print.

Imported before any command's module (``unibridge-bench`` and ``python -m harness.cli.main``
both import this package first), so :data:`_IMPORTED` is the earliest moment the CLI sees.
"""

import time

#: When this package was imported: the start of the process's first command.
_IMPORTED: float | None = time.time()


def command_started() -> float:
    """When the command began (``time.time()``): the package's import for the first command asked.

    The imports and the planning before a command's body count in its wall time. A later
    command in the same process (one invoked in-process again, as tests do) gets the moment
    it asks instead. Example::

        started = command_started()     # first thing in a command's body
        ...
        click.echo(f"Wall time: {time.time() - started:.1f} s")
    """
    global _IMPORTED
    stamp, _IMPORTED = _IMPORTED, None
    return time.time() if stamp is None else stamp
