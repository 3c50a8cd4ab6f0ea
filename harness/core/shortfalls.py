"""Data shortfalls: a suite asks for more than its data holds. Said once, in the run's summary.

Example::

    # a stage that finds one logs it as it builds (shown with -v) and keeps it in its summary
    log.warning("%s: %s", self.title, short, extra=SHORTFALL)
    summary = {"corpus_lines": 18, SHORTFALL_KEY: short}    # CorpusStage.summary(artifact)
    # at the end of ``run``, from every finished stage of the run's graph
    summary_line(run_shortfalls(graph.stages, cache))
    # "Data shortfalls (2), the run went on with what there is: corpus for ...: text of ...; ..."

A shortfall is no fault (the run goes on with what there is), but printed as it happens, one
WARNING line per language, it reads as a broken install. So the stderr handler holds such
records back below ``-v`` (with ``-v`` they are printed as a stage builds, and the summary
line names every shortfall, not the first :data:`SHOWN`).

The summary line describes the suite's data, not which stages happened to build this time: a
stage that finds a shortfall keeps it in its :meth:`~harness.core.graph.Stage.summary`, under
:data:`SHORTFALL_KEY` (a stage of any kind, a plugin's too, reports one that way), and the line
is made from the summaries of every finished stage of the run's graph, cached or built now, in
graph order, each message once. A fresh, a resumed and a warm run of one suite print the same
line; log records play no part (nor does the process a stage ran in: Ray workers' count too).
The cache reads each summary once per key, and the records read them anyway. Artifacts built
before this kept no shortfall and are not rebuilt for it (no version bump): the vocabulary
search's is read from the search.json of any age, a corpus's from its line count when it holds
one language, and a several-language corpus of old (only the tiny backbones' text) reports none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.core.graph import Cache, Stage

#: ``extra=`` of a log call that reports a shortfall.
SHORTFALL = {"shortfall": True}
#: The key of a stage summary that holds the stage's data shortfall (one message, no title).
SHORTFALL_KEY = "shortfall"
#: How many shortfalls the summary line spells out before "and N more" (``-v``: all).
SHOWN = 3


def is_shortfall(record: logging.LogRecord) -> bool:
    """True for a record logged with ``extra=SHORTFALL``."""
    return bool(getattr(record, "shortfall", False))


def run_shortfalls(stages: Iterable[Stage], cache: Cache) -> list[str]:
    """``<stage title>: <shortfall>`` of each finished stage whose summary holds one, in order, once."""
    messages: dict[str, None] = {}
    for stage in stages:
        if cache.is_done(stage) and (short := cache.summary(stage).get(SHORTFALL_KEY)):
            messages[f"{stage.title}: {short}"] = None
    return list(messages)


def summary_line(messages: Sequence[str], shown: int | None = SHOWN) -> str | None:
    """One line naming the first ``shown`` shortfalls (None: all) and how many more; None if none."""
    if not messages:
        return None
    listed = messages if shown is None else messages[:shown]
    more = len(messages) - len(listed)
    rest = f"; and {more} more (-v names each)" if more > 0 else ""
    return (f"Data shortfalls ({len(messages)}), the run went on with what there is: "
            f"{'; '.join(listed)}{rest}")
