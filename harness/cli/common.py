"""Options and error handling shared by every command (defined once here).

User errors (a bad suite, missing data, a corrupt cache entry, an unknown name) end with one
clear message and exit code 2; a failed stage during a run ends with exit code 1.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.data.source import DataError
from harness.executors.base import ExecutorUnavailableError
from harness.graph import CacheError, UnknownStageKindError
from harness.registry import UnknownNameError
from harness.suite import SuiteError, load_suite

if TYPE_CHECKING:
    from harness.planning import Plan

USER_ERRORS = (SuiteError, DataError, CacheError, UnknownNameError, UnknownStageKindError,
               ExecutorUnavailableError)

suite_argument = click.argument("suite_file", metavar="SUITE.yaml",
                                type=click.Path(dir_okay=False, path_type=Path))
only_option = click.option("--only", "only", multiple=True, metavar="KEY=VALUE",
                           help="Keep jobs whose KEY (method, backbone, task, lang, seed) is VALUE; "
                                "repeatable.")
verbose_option = click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")


class UserError(click.ClickException):
    """A message for the user, no traceback; exit code 2."""

    exit_code = 2


def user_errors(command: Callable) -> Callable:
    """Turn the harness's user-facing exceptions into :class:`UserError`."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except USER_ERRORS as error:
            raise UserError(str(error)) from error

    return wrapper


#: Libraries whose routine warnings (re-initialised heads, overwritten adapter names,
#: checkpoint mtimes) would bury the harness's own messages; shown from ``-vv`` on.
CHATTY_LIBRARIES = ("transformers", "adapters", "datasets", "huggingface_hub")


def setup_logging(verbose: int) -> None:
    """Log to stderr at WARNING, INFO (-v) or DEBUG (-vv); libraries at ERROR below -vv."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        import warnings

        import transformers

        transformers.logging.set_verbosity_error()
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="mtime may not be reliable")


def parse_filters(only: tuple[str, ...]) -> dict[str, set[str]]:
    """``("lang=amh", "lang=khm", "method=unibridge")`` -> ``{"lang": {...}, "method": {...}}``."""
    filters: dict[str, set[str]] = {}
    keys = ("method", "backbone", "task", "lang", "seed")
    for item in only:
        key, sep, value = item.partition("=")
        if not sep or key not in keys:
            raise UserError(f"--only {item!r}: expected KEY=VALUE with KEY one of {', '.join(keys)}")
        filters.setdefault(key, set()).add(value)
    return filters


def load_plan(suite_file: Path, seed: int | None = None, check_data: bool = True) -> Plan:
    """Load, override the seeds if asked, and validate a suite."""
    from harness.planning import prepare  # imports the model libraries: only when needed

    suite = load_suite(suite_file)
    if seed is not None:
        suite = suite.model_copy(update={"seeds": (seed,)})
    return prepare(suite, check_data=check_data)
