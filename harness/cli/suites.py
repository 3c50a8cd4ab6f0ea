"""Named suites: what ``unibridge-bench list suites`` shows is what ``run NAME`` accepts.

Example::

    unibridge-bench list suites          # smoke, wikiann, ... with their descriptions
    unibridge-bench run smoke            # = run suites/smoke.yaml

A name is looked up as ``suites/<name>.yaml`` in the current directory first, then among the
suites shipped with the harness (:data:`harness.core.resources.SUITES`: the wheel's copy, or the
checkout's ``suites/``), so ``run smoke`` works from any directory. A path that exists is always
taken as given.
"""

from __future__ import annotations

from importlib.abc import Traversable
from pathlib import Path

import click

from harness.core.resources import SUITES, on_disk, package_files


def suite_dirs() -> tuple[Traversable, ...]:
    """Where named suites live, searched in this order (the first of a name wins)."""
    return Path("suites"), package_files(SUITES)


def named_suites() -> dict[str, Path]:
    """Suite name -> file, over :func:`suite_dirs` (the ``*.yaml`` files directly in each)."""
    found: dict[str, Path] = {}
    for directory in suite_dirs():
        if directory.is_dir():
            for entry in sorted(directory.iterdir(), key=lambda e: e.name):
                if entry.name.endswith(".yaml") and entry.is_file():
                    found.setdefault(entry.name.removesuffix(".yaml"), on_disk(entry))
    return dict(sorted(found.items()))


def suite_description(path: Path) -> str:
    """The suite's ``description:`` line, read without validating the suite (empty when unreadable)."""
    import yaml  # here: only `list` reads descriptions

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ""
    return str(raw.get("description", "")) if isinstance(raw, dict) else ""


def resolve_suite(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """``value`` when it is a file, else the named suite ``value``; neither: a usage error."""
    if value.is_file():
        return value
    suites = named_suites()
    name = value.name.removesuffix(".yaml") if value.parent == Path(".") else None
    if name in suites:
        return suites[name]
    raise click.BadParameter(f"{str(value)!r}: no such file and no suite of that name; "
                             f"named suites: {', '.join(suites) or '(none)'}")
