"""Named suites: what ``unibridge-bench list suites`` shows is what ``run NAME`` accepts.

Example::

    unibridge-bench list suites          # smoke, wikiann, ... with their descriptions
    unibridge-bench run smoke            # = run suites/smoke.yaml

A name is looked up as ``suites/<name>.yaml`` in the current directory first, then in the
harness's own checkout (the suites shipped with it), so ``run smoke`` works from any directory
of an editable install. A path that exists is always taken as given.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml

#: Where named suites live, searched in this order (the first of a name wins).
SUITE_DIRS = (Path("suites"), Path(__file__).resolve().parents[2] / "suites")


def named_suites() -> dict[str, Path]:
    """Suite name -> file, over :data:`SUITE_DIRS`."""
    found: dict[str, Path] = {}
    for directory in SUITE_DIRS:
        for path in sorted(directory.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def suite_description(path: Path) -> str:
    """The suite's ``description:`` line, read without validating the suite (empty when unreadable)."""
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
