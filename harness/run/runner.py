"""Run the jobs of a plan: build their graphs, deduplicate, execute, record results.

Example::

    report = run_jobs(plan, plan.jobs, RunOptions(workdir=Path("runs/smoke")))
    report.failures        # [] when every stage succeeded

Re-running the same suite finds every finished stage in ``<workdir>/cache`` and redoes nothing;
a run killed at any moment keeps every finished artifact and every written result record.
``rerun`` names stage kinds to recompute even when cached (MTEB's overwrite strategy, per kind);
every stage that depends on a recomputed one is recomputed too, so no result mixes a new artifact
with one built on the old. A job's record is written once, as soon as every stage of its graph exists: when
its final stage finishes, or at the end of the run for a cached final whose inputs had to be
rebuilt first (never before them). A job that fails loses the record an earlier run wrote for it:
that record is not this run's result, and the report names the job as failed instead of
showing the old value as current (:func:`drop_stale_records`).

Before anything runs the workdir is checked to be writable; a full disk stops the run with one
message (:mod:`harness.core.workdir`), also while a record or ``results.jsonl`` is written. A stage
another run on the same workdir built meanwhile is counted apart (``built_elsewhere``).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from harness.core.executor import Failure
from harness.core.graph import Cache, Stage, StageContext, UnknownStageKindError, topological_order
from harness.core.shortfalls import run_shortfalls
from harness.core.stop_signals import raise_pending_stop
from harness.core.workdir import NoSpaceError, check_writable, out_of_space_stops
from harness.planning.costs import measured_hours
from harness.planning.plan import Plan
from harness.run.executors.catalog import EXECUTORS
from harness.run.progress import RunProgress, built_seconds
from harness.run.records import (
    RESULTS_DIR,
    RESULTS_FILE,
    aggregate,
    make_record,
    record_path,
    write_record,
)
from harness.suite.schema import Job

log = logging.getLogger(__name__)

CACHE_DIR = "cache"


@dataclass
class RunOptions:
    """How to run: where, on which device in which precision, which executor, what to recompute."""

    workdir: Path
    device: str = "cpu"
    executor: str = "local"
    rerun: frozenset[str] = frozenset()
    progress: bool = True
    precision: str = "auto"  # harness.training.arguments.PRECISIONS
    #: When the command began (``time.time()``), from which the progress lines count the
    #: elapsed time (:mod:`harness.run.progress`); None: when :func:`run_jobs` is called.
    started: float | None = None


@dataclass
class RunReport:
    """What a run did."""

    jobs: list[Job]
    pending: int = 0
    cached: int = 0
    #: Stages pending at the start that another run on the same workdir built meanwhile.
    built_elsewhere: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: Each job that did not finish, with the failure of a stage of its graph that raised.
    failed_jobs: dict[Job, Failure] = field(default_factory=dict)
    #: The data shortfalls the finished stages of the graph keep, built now or cached
    #: (:func:`harness.core.shortfalls.run_shortfalls`): the same for a fresh, resumed or warm run.
    shortfalls: list[str] = field(default_factory=list)

    @property
    def built(self) -> int:
        """Stages this run built itself."""
        return self.pending - len(self.failures) - self.built_elsewhere


@dataclass
class JobGraph:
    """The deduplicated stages of a set of jobs and which job ends in which stage."""

    finals: dict[Job, Stage]
    stages: list[Stage]

    @classmethod
    def of(cls, plan: Plan, jobs: list[Job]) -> JobGraph:
        """Build every job's graph and merge them by stage key."""
        finals = {job: plan.build(job) for job in jobs}
        graph = cls(finals, topological_order(list(finals.values())))
        graph.name_stages()
        return graph

    def name_stages(self) -> None:
        """Set each stage's ``needed_by`` to the first job whose graph holds it."""
        first: dict[str, str] = {}
        for job, final in self.finals.items():
            for stage in topological_order([final]):
                first.setdefault(stage.key, job.job_id)
        for stage in self.stages:
            stage.needed_by = first[stage.key]

    def failed_jobs(self, failures: list[Failure]) -> dict[Job, Failure]:
        """Jobs whose graph holds a failed stage, each with a stage that raised (not one skipped)."""
        failed = {failure.stage.key: failure for failure in failures}
        raised = {key: failure for key, failure in failed.items()
                  if not any(s.key in failed for s in failure.stage.inputs.values())}
        result = {}
        for job, final in self.finals.items():
            keys = [stage.key for stage in topological_order([final])]
            causes = [raised[key] for key in keys if key in raised]
            if causes or final.key in failed:
                result[job] = causes[0] if causes else failed[final.key]
        return result

    def sharing(self) -> Counter:
        """For each stage key, the number of jobs whose graph contains it."""
        counts: Counter = Counter()
        for final in self.finals.values():
            counts.update(stage.key for stage in topological_order([final]))
        return counts


def stale_for_rerun(graph: JobGraph, kinds: frozenset[str]) -> set[str]:
    """Keys of the stages of ``kinds`` and of every stage downstream: what ``--rerun`` recomputes.

    Raises:
        UnknownStageKindError: a kind that is not in ``graph`` (a typo must not be a no-op).
    """
    present = {stage.kind for stage in graph.stages}
    unknown = sorted(kinds - present)
    if unknown:
        raise UnknownStageKindError(
            f"--rerun {unknown[0]!r}: no stage of that kind in these jobs; "
            f"valid kinds: {', '.join(sorted(present))}")
    stale: set[str] = set()
    for stage in graph.stages:  # inputs come first
        if stage.kind in kinds or any(s.key in stale for s in stage.inputs.values()):
            stale.add(stage.key)
    return stale


def verify_cached_reads(graph: JobGraph, cache: Cache, stale: set[str] = frozenset()) -> None:
    """Check the checksums of every cached artifact this run reads, before anything runs.

    Those are the inputs of the stages to run (not built yet, or ``stale`` for ``--rerun``) and
    the finished finals (their records are read). A damaged one stops the run with one
    :class:`CacheError` naming it and the fix, before ``--rerun`` has deleted anything.
    """
    pending = stale | {stage.key for stage in graph.stages if not cache.is_done(stage)}
    read = [upstream for stage in graph.stages if stage.key in pending
            for upstream in stage.inputs.values() if upstream.key not in pending]
    read += [final for final in graph.finals.values() if final.key not in pending]
    for stage in read:
        cache.verify(stage)


def run_jobs(plan: Plan, jobs: list[Job], options: RunOptions) -> RunReport:
    """Execute ``jobs``; see the module docstring.

    Raises:
        WorkdirError: the workdir cannot be written (said before anything runs).
        NoSpaceError: its filesystem filled up; the same call resumes once space is freed.
    """
    check_writable(options.workdir, CACHE_DIR, RESULTS_DIR)
    graph = JobGraph.of(plan, jobs)
    cache = Cache(options.workdir / CACHE_DIR)
    stale = stale_for_rerun(graph, options.rerun)
    verify_cached_reads(graph, cache, stale)
    for stage in graph.stages:
        if stage.key in stale:
            cache.invalidate(stage)
    pending = pending_stages(graph, cache)
    report = RunReport(jobs, pending=len(pending), cached=len(graph.stages) - len(pending))
    jobs_by_final: dict[str, list[Job]] = defaultdict(list)
    for job, final in graph.finals.items():
        jobs_by_final[final.key].append(job)
    progress = run_progress(graph, pending, options)

    recorded: set[str] = set()
    jobs_bar = tqdm(total=len(jobs), desc="jobs", unit="job", disable=not options.progress)

    def record(stage: Stage) -> None:
        if stage.key not in jobs_by_final or stage.key in recorded:
            return  # most stages end no job
        if not all(cache.is_done(s) for s in topological_order([stage])):
            return
        recorded.add(stage.key)
        for job in jobs_by_final[stage.key]:
            with out_of_space_stops(options.workdir, f"writing the record of {job.job_id}"):
                write_record(options.workdir, make_record(job, stage, cache))
            jobs_bar.update()
            log.info("job %s: recorded", job.job_id)
            progress.job_finished(job.job_id)
        raise_pending_stop()

    def done(stage: Stage) -> None:
        if stage.key in progress.left:
            progress.stage_done(stage, built_seconds(cache.manifest(stage), ctx.run_id))
        record(stage)

    ctx = StageContext(device=options.device, precision=options.precision, cache=cache,
                       progress=options.progress)
    executor = EXECUTORS.get(options.executor)()
    stopped = True
    try:
        report.failures = executor.execute(graph.stages, cache, ctx, on_done=done)
        for final in graph.finals.values():  # cached finals whose inputs were rebuilt in this run
            record(final)
        report.failed_jobs = graph.failed_jobs(report.failures)
        drop_stale_records(options.workdir, list(report.failed_jobs))
        raise_pending_stop()  # one the last stage's code swallowed
        stopped = False
    finally:  # also when stopped (Ctrl-C, SIGTERM): results.jsonl holds every job that finished
        jobs_bar.close()
        write_results_file(options.workdir, stopped)
    report.built_elsewhere = sum(cache.is_done(s) and cache.manifest(s).get("run") != ctx.run_id
                                 for s in pending)  # by another run on this workdir, meanwhile
    report.shortfalls = run_shortfalls(graph.stages, cache)
    return report


def run_progress(graph: JobGraph, pending: list[Stage], options: RunOptions) -> RunProgress:
    """The progress lines of a run over ``graph`` that builds ``pending`` (:mod:`harness.run.progress`).

    A job whose graph holds no pending stage is finished already: it counts, without a line.
    Example::

        progress = run_progress(graph, pending_stages(graph, cache), options)
    """
    keys = {stage.key for stage in pending}
    finished = {job.job_id for job, final in graph.finals.items()
                if not any(stage.key in keys for stage in topological_order([final]))}
    # a warm run builds nothing: no estimate to make, so no manifest of the workdir is read
    measured = measured_hours(options.workdir / CACHE_DIR) if pending else {}
    return RunProgress(len(graph.finals), finished, pending, measured, started=options.started)


def drop_stale_records(workdir: Path, failed: list[Job]) -> None:
    """Remove the record files of jobs that failed in this run (``results.jsonl`` follows).

    A failed job's record can only be an earlier run's: its graph has a stage this run could
    not build, so the record may come from other settings or from an artifact since removed.
    Kept, the tables would show it as the current result; gone, the report's footnote says the
    job failed and why (``run.json``). The next run that finishes the job writes it again.
    Example::

        drop_stale_records(workdir, list(report.failed_jobs))
    """
    for job in failed:
        path = record_path(workdir, job.job_id)
        if path.is_file():
            path.unlink()
            log.info("job %s failed: removed its earlier record %s", job.job_id, path)


def pending_stages(graph: JobGraph, cache: Cache) -> list[Stage]:
    """The stages not yet built; of the built ones, the scratch a kill left is removed.

    (A run killed between publishing a stage and removing its checkpoints leaves them.)
    """
    pending = []
    for stage in graph.stages:
        if cache.is_done(stage):
            cache.discard_partial(stage)
        else:
            pending.append(stage)
    return pending


def write_results_file(workdir: Path, stopped: bool) -> None:
    """:func:`aggregate`; a full disk while the run is stopping anyway is logged at INFO only.

    The run's own error (the stage that met the full disk, Ctrl-C) is the one message to say,
    and ``results.jsonl`` is written again from ``results/`` by the next run.
    """
    try:
        with out_of_space_stops(workdir, f"writing {workdir / RESULTS_FILE}"):
            aggregate(workdir)
    except NoSpaceError as error:
        if not stopped:
            raise
        log.info("%s", error)
