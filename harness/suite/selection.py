"""``--only KEY=VALUE``: which jobs of a suite a command works on.

Example::

    filters = parse_only(("lang=amh", "method=unibridge"))   # {"lang": {"amh"}, "method": {...}}
    jobs = select_jobs(suite, suite.jobs(), filters)          # SuiteError for a value no job has

A value that no job of the suite has (``lang=xyz``, ``task=NER``, a misspelt method) is an
error naming the valid values and the closest one, not an empty selection: an empty run that
exits 0 would look like success and overwrite what the last run selected. So is a combination
of valid values that no job has (a method that does not run on that backbone).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from harness.suite.schema import Job, Suite, SuiteError

FILTER_KEYS = ("method", "backbone", "task", "lang", "seed")
"""The job fields ``--only`` can select on."""


def parse_only(only: Iterable[str]) -> dict[str, set[str]]:
    """``("lang=amh", "lang=khm", "method=unibridge")`` -> ``{"lang": {...}, "method": {...}}``.

    Raises:
        SuiteError: an item is not ``KEY=VALUE`` with a known KEY.
    """
    filters: dict[str, set[str]] = {}
    for item in only:
        key, sep, value = item.partition("=")
        if not sep or key not in FILTER_KEYS:
            raise SuiteError(f"--only {item!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(FILTER_KEYS)}")
        filters.setdefault(key, set()).add(value)
    return filters


def select_jobs(suite: Suite, jobs: list[Job], filters: Mapping[str, set[str]]) -> list[Job]:
    """The jobs matching every filter; an unknown value or an empty selection is a SuiteError."""
    problems = []
    for key, values in filters.items():
        valid = list(dict.fromkeys(str(getattr(job, key)) for job in jobs))
        for value in sorted(values - set(valid)):
            lowered = {v.lower(): v for v in valid}  # task=NER finds ner
            close = [lowered[v] for v in difflib.get_close_matches(value.lower(), lowered, n=1,
                                                                   cutoff=0.6)]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"--only {key}={value}: no job of {suite.path} has {key} {value!r}"
                            f"{hint} (valid: {', '.join(valid)})")
    if problems:
        raise SuiteError("\n".join(problems))
    selected = [job for job in jobs if job.matches(filters)]
    if not selected:
        asked = " ".join(f"--only {key}={value}" for key, vs in filters.items() for value in sorted(vs))
        raise SuiteError(f"{asked}: no job of {suite.path} has all of these together; "
                         f"`unibridge-bench run {suite.path} --dry-run` lists the jobs")
    return selected
