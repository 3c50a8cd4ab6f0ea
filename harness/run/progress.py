"""Signs of life in a log: a line per finished job with what is left, a line per long stage.

Example::

    progress = RunProgress(jobs=12, finished={"zero_shot/tiny-xlmr/ner/tgl/1"},
                           pending=stages_to_build, measured={})
    progress.stage_done(stage, seconds=95.0)   # logs: stage ... took 1 min 35 s
    progress.job_finished("zero_shot/tiny-xlmr/ner/amh/1")
    # logs: job 2/12 finished: zero_shot/tiny-xlmr/ner/amh/1; 2 min 10 s elapsed, about ...

The lines go to the :data:`log` logger (``harness.run.progress``) at INFO: ``run`` turns it on
when stderr is no terminal (a cluster job's log, where no bar is drawn), and ``-v`` shows it
everywhere. A job finished before the run began (its whole graph cached) counts towards the
jobs done but gets no line of its own.

**What is left** comes from ``plan``'s costs (:mod:`harness.planning.costs`) when each stage
still to build has a figure there: the mean seconds of its kind's finished stages in the
workdir (as ``plan --workdir`` reads them, plus the stages this run built), else the paper's T4
hours scaled to its steps. The seconds are summed as if the stages ran one after another (the
local executor; on Ray, with stages side by side, it is an overestimate). When a stage has no
figure (a kind the paper gives none for, never built in this workdir) the estimate is the mean
time per job finished in this run times the jobs not finished. Each line says which.

**A long stage** (:data:`LONG_STAGE_SECONDS` or more) gets one line when it ends, with the
seconds its cache manifest records (the same on every executor); there is no heartbeat while
it runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from harness.core.graph import Stage
from harness.planning.costs import paper_scaled_hours

log = logging.getLogger(__name__)

#: A stage that takes at least this long gets a line of its own when it ends.
LONG_STAGE_SECONDS = 60.0


def format_seconds(seconds: float) -> str:
    """``42.0 s``, ``3 min 05 s`` or ``2 h 03 min``.

    Example::

        format_seconds(65) == "1 min 05 s"
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def built_seconds(manifest: Mapping[str, Any], run_id: str) -> float | None:
    """The seconds a stage took when the run ``run_id`` built it (its manifest's), else None.

    Example::

        built_seconds(cache.manifest(stage), ctx.run_id)   # None: cached, or built by another run
    """
    if manifest.get("run") != run_id:
        return None
    return float(manifest.get("seconds", 0.0))


class RunProgress:
    """Counts finished jobs and built stages of one run and logs a line for each (module docstring).

    ``jobs``: how many the run has; ``finished``: the ids of those finished when it began
    (:meth:`job_finished` counts them once, without a line); ``pending``:
    the stages it has to build; ``measured``: per kind, the mean hours and number of the
    workdir's finished stages (:func:`harness.planning.costs.measured_hours`); ``started``: when
    the command began (``clock()`` units, default now), from which the elapsed time counts;
    ``clock``: seconds now (``time.time``; a test passes a fake).
    """

    def __init__(self, jobs: int, finished: Collection[str], pending: Iterable[Stage],
                 measured: Mapping[str, tuple[float, int]], started: float | None = None,
                 clock: Callable[[], float] = time.time):
        self.clock = clock
        self.began = clock()  # the stages' start: the mean time per job counts from here
        self.started = self.began if started is None else started
        self.jobs, self.done, self.done_here = jobs, len(finished), 0
        self.finished_before = frozenset(finished)
        self.left: dict[str, Stage] = {stage.key: stage for stage in pending}
        self.paper = {key: paper_scaled_hours(stage) for key, stage in self.left.items()}
        #: Per kind, the seconds summed over finished stages and their number.
        self.measured = {kind: (hours * 3600 * n, n) for kind, (hours, n) in measured.items()}

    def stage_done(self, stage: Stage, seconds: float | None) -> None:
        """``stage`` exists now; ``seconds``: how long this run took to build it (None: not built here).

        A stage built here counts towards its kind's measured mean; one that took
        :data:`LONG_STAGE_SECONDS` or more gets a line.
        """
        if self.left.pop(stage.key, None) is None or seconds is None:
            return
        total, n = self.measured.get(stage.kind, (0.0, 0))
        self.measured[stage.kind] = (total + seconds, n + 1)
        if seconds >= LONG_STAGE_SECONDS:
            log.info("stage %s took %s; %s elapsed", stage.title, format_seconds(seconds),
                     format_seconds(self.clock() - self.started))

    def job_finished(self, job_id: str) -> None:
        """Count ``job_id`` as finished in this run and log its line: done of all, elapsed, what is left."""
        if job_id in self.finished_before:
            return
        self.done += 1
        self.done_here += 1
        now = self.clock()
        if self.done >= self.jobs:
            left = "no job left"
        else:
            seconds, source = self.estimate(now)
            left = f"about {format_seconds(seconds)} left ({source})"
        log.info("job %d/%d finished: %s; %s elapsed, %s", self.done, self.jobs, job_id,
                 format_seconds(now - self.started), left)

    def estimate(self, now: float) -> tuple[float, str]:
        """Seconds left and where the figure comes from: ``plan``'s costs, else the mean per job."""
        costs = [self._stage_cost(key, stage) for key, stage in self.left.items()]
        if all(cost is not None for cost in costs):
            sources = sorted({source for _, source in costs}) or ["measured"]
            return sum(seconds for seconds, _ in costs), (
                f"plan's costs of the {len(costs)} stages left: {', '.join(sources)}")
        mean = (now - self.began) / max(self.done_here, 1)
        return mean * (self.jobs - self.done), (
            f"mean {format_seconds(mean)} per job finished in this run; "
            f"no cost known for every stage left")

    def _stage_cost(self, key: str, stage: Stage) -> tuple[float, str] | None:
        """Seconds and source of one stage left: its kind's measured mean, else the paper's figure."""
        if stage.kind in self.measured:
            total, n = self.measured[stage.kind]
            return total / n, "measured in this workdir"
        if self.paper[key] is not None:
            return self.paper[key] * 3600, "paper T4 x steps"
        return None
