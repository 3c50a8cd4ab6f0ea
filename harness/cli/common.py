"""Options and error handling shared by every command (defined once here).

Imports only click and :mod:`harness.cli.suites` at the top, so that ``--help`` and ``list`` start
fast; the harness's other modules are imported by the functions that use them.

User errors (a bad suite, missing data, a corrupt cache entry, an unknown name) end with one
clear message and exit code 2; a failed stage during a run ends with exit code 1.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.suites import resolve_suite

if TYPE_CHECKING:
    from harness.planning.plan import Plan
    from harness.suite.schema import Suite

#: Where ``--include`` keeps its folders for :func:`activate_plugins` (``ctx.meta``).
INCLUDE_META = "harness.plugins.include"

suite_argument = click.argument("suite_file", metavar="SUITE.yaml",
                                type=click.Path(dir_okay=False, path_type=Path), callback=resolve_suite)
only_option = click.option("--only", "only", multiple=True, metavar="KEY=VALUE",
                           help="Keep jobs whose KEY (method, backbone, task, lang, seed) is VALUE; "
                                "repeatable. Only the data these jobs read is checked.")


def _remember_include(ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]) -> None:
    ctx.meta[INCLUDE_META] = value


include_option = click.option("--include", multiple=True, metavar="DIR", expose_value=False,
                              type=click.Path(file_okay=False, path_type=Path), callback=_remember_include,
                              help="A folder of plugin modules (methods, tables, ...: docs/extending.md), "
                                   "besides the suite's include: and installed packages; repeatable.")
verbose_option = click.option("-v", "--verbose", count=True,
                              help="More logging: -v info plus the model libraries' own messages "
                                   "and bars, -vv debug.")


class UserError(click.ClickException):
    """A message for the user, no traceback; exit code 2."""

    exit_code = 2


def user_error_types() -> tuple[type[Exception], ...]:
    """The harness's exceptions that end a command with a message (imported when asked)."""
    from harness.core.executor import ExecutorUnavailableError
    from harness.core.graph import UnknownStageKindError
    from harness.core.manifest import CacheError
    from harness.core.registry import UnknownNameError
    from harness.core.threads import ThreadsSettingError
    from harness.core.workdir import NoSpaceError, WorkdirError
    from harness.data.source import DataError
    from harness.plugins.loading import PluginError
    from harness.report.plugin_tables import TablePluginError
    from harness.run.executors.local import WorkersSettingError
    from harness.suite.schema import SuiteError

    return (SuiteError, DataError, CacheError, UnknownNameError, UnknownStageKindError,
            ExecutorUnavailableError, NoSpaceError, WorkdirError, PluginError, TablePluginError,
            ThreadsSettingError, WorkersSettingError)


def user_errors(command: Callable) -> Callable:
    """Turn the harness's user-facing exceptions (:func:`user_error_types`) into :class:`UserError`.

    Example::

        @click.command()
        @user_errors
        def validate(suite_file): ...     # a SuiteError ends as "Error: <message>", exit code 2
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - sorted below; anything else goes on unchanged
            if isinstance(error, user_error_types()):
                raise UserError(str(error)) from error
            raise

    return wrapper


#: Libraries whose routine warnings (re-initialised heads, overwritten adapter names,
#: checkpoint mtimes) and progress bars would bury the harness's own messages; shown from ``-v`` on.
CHATTY_LIBRARIES = ("transformers", "adapters", "datasets", "huggingface_hub", "torch",
                    "deepfocus")  # deepfocus prints through its own printer: its bars follow this level


class AboveBars(logging.StreamHandler):
    """Writes log lines to stderr above the progress bars (``tqdm.write``), not into them."""

    def emit(self, record: logging.LogRecord) -> None:
        """Format and write one record."""
        from tqdm.auto import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise (logging.Handler's rule)
            self.handleError(record)


class SayOnce(logging.Filter):
    """Lets each distinct warning message through once per run (info and debug always pass)."""

    def __init__(self):
        super().__init__()
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a WARNING-or-above message already shown."""
        if record.levelno < logging.WARNING:
            return True
        said = (record.name, record.getMessage())
        if said in self.seen:
            return False
        self.seen.add(said)
        return True


def setup_logging(verbose: int) -> None:
    """Log to stderr at WARNING, INFO (-v) or DEBUG (-vv), each warning once, shortfalls held back.

    Below ``-v`` the model libraries are quiet: their loggers at ERROR, their progress bars off
    (set through their environment variables, before they are imported), their Python warnings
    (FutureWarning, DeprecationWarning, UserWarning) ignored.
    """
    from harness.core.shortfalls import is_shortfall

    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    stamp = "%(asctime)s " if verbose else ""
    handler = AboveBars()
    handler.setFormatter(logging.Formatter(stamp + "%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SayOnce())
    if verbose < 1:  # shortfalls make one line of the run's summary (harness.core.shortfalls)
        handler.addFilter(lambda record: not is_shortfall(record))
    logging.basicConfig(level=level, handlers=[handler])
    if verbose < 1:
        quiet_libraries()


def quiet_libraries() -> None:
    """Silence the model libraries' loggers, progress bars and Python warnings (see above)."""
    import os
    import warnings

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    for category in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    for library in CHATTY_LIBRARIES:
        warnings.filterwarnings("ignore", category=UserWarning, module=rf"{library}(\.|$)")


def activate_plugins(suite: Suite | None = None) -> None:
    """Load the installed plugins, the ``--include`` folders and the suite's ``include:`` ones.

    Raises:
        PluginError: one message naming every plugin that cannot be used.
    """
    from harness.plugins import loading

    context = click.get_current_context(silent=True)
    loading.load_folders(context.meta.get(INCLUDE_META, ()) if context else (), "--include")
    if suite is not None:
        loading.load_folders(suite.include, f"{suite.path}: include:")
    loading.activate()


def load_plan(suite_file: Path, seed: int | None = None, check_data: bool = True,
              only: tuple[str, ...] = ()) -> Plan:
    """Load, override the seeds if asked, select the ``--only`` jobs and validate a suite.

    ``plan.selected`` holds the selected jobs; the data checks cover what they read. A value
    of ``--only`` that no job has is a :class:`SuiteError` naming the valid ones. Plugins
    (:func:`activate_plugins`) are loaded before the suite's names are checked.
    """
    from harness.planning.plan import prepare  # imports the model libraries: only when needed
    from harness.suite.schema import load_suite
    from harness.suite.selection import parse_only

    filters = parse_only(only)
    suite = load_suite(suite_file)
    activate_plugins(suite)
    if seed is not None:
        suite = suite.model_copy(update={"seeds": (seed,)})
    return prepare(suite, check_data=check_data, only=filters)
