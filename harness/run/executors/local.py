"""Run stages in dependency order on this machine: in this process, or in worker processes.

Example::

    failures = LocalExecutor(keep_going=True).execute(stages, cache, ctx, on_done)
    failures = LocalExecutor(workers=2).execute(stages, cache, ctx, on_done)   # two at once

With ``keep_going`` a failed stage only stops the stages that depend on it; the others (other
languages, other methods) still run and record their results. A full disk
(:class:`harness.core.workdir.NoSpaceError`) stops the run: every other stage would fail too.

Workers: stages of tiny backbones compute with one intra-op thread each
(:func:`harness.core.threads.threads_for`), so one of them leaves every other CPU idle. When the
run is on the CPU, :func:`local_workers` runs ``usable CPUs // threads`` stages at once, each in
a worker process of its own (spawned: fresh interpreters, never forked after torch started its
threads); a real backbone's stage takes every usable CPU, hence one worker: the stages run in
this process as before, and so do they on CUDA (one device). ``UNIBRIDGE_WORKERS=N`` sets N
(``1``: everything in this process). A stage's result does not depend on where it runs: each
stage seeds every generator itself before it runs and computes with the same thread count
(docs/choices.md, "Smoke run in 90 s"). The stages run in the order given, an input always
finished before a stage that reads it is started; ``on_done`` is called in this process, in the
order the stages finish.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import replace

from tqdm.auto import tqdm

from harness.core.executor import Executor, Failure, failed_input, failure_reason, split_cached
from harness.core.graph import Cache, Stage, StageContext
from harness.core.threads import count_from_env, threads_for, usable_cpus
from harness.core.workdir import NoSpaceError

log = logging.getLogger(__name__)

#: Environment variable that sets the number of stages run at once (1: all in this process).
WORKERS_ENV = "UNIBRIDGE_WORKERS"


#: A stage running in a pool that a dead worker broke this many times fails: the first break
#: makes every stage then running a suspect, run alone after it, so the second is its own.
MAX_POOL_BREAKS = 2


class WorkerDiedError(RuntimeError):
    """The worker process building a stage ended abruptly (killed)."""


class WorkersSettingError(ValueError):
    """``UNIBRIDGE_WORKERS`` holds something that is no worker count."""


def forced_workers() -> int | None:
    """The count ``UNIBRIDGE_WORKERS`` sets, or None when it is unset.

    Raises:
        WorkersSettingError: a value that is not a whole number from 1 (``run`` says it before
            planning anything).
    """
    return count_from_env(WORKERS_ENV, "a worker count", "usable CPUs // threads",
                          WorkersSettingError)


def local_workers(pending: Sequence[Stage], device: str) -> int:
    """How many worker processes: ``UNIBRIDGE_WORKERS``, else usable CPUs // narrowest stage.

    One on CUDA (stages share the device) and for fewer than two pending stages. With several,
    a stage of ``t`` threads takes ``t`` of them (:func:`stage_slots`): two one-thread stages
    run side by side on 2 CPUs, a stage that takes both runs alone.

    Raises:
        WorkersSettingError: ``UNIBRIDGE_WORKERS`` is not a whole number from 1.
    """
    forced = forced_workers()
    if forced is not None:
        count = forced
    elif device != "cpu":
        count = 1
    else:
        narrowest = min((threads_for(stage) for stage in pending), default=1)
        count = usable_cpus() // narrowest
    return max(1, min(count, len(pending)))


def stage_slots(stage: Stage, workers: int) -> int:
    """How many of ``workers`` a stage takes while it runs: its threads (all of them at most).

    Each counts one when ``UNIBRIDGE_WORKERS`` sets the number (N stages at once, as asked).
    """
    if os.environ.get(WORKERS_ENV, "").strip():
        return 1
    return max(1, min(threads_for(stage), workers))


class LocalExecutor(Executor):
    """Stages in this process, or ``workers`` at once in worker processes; see the module."""

    def __init__(self, keep_going: bool = True, workers: int | None = None):
        self.keep_going = keep_going
        self.workers = workers

    def execute(self, stages: Sequence[Stage], cache: Cache, ctx: StageContext,
                on_done: Callable[[Stage], None]) -> list[Failure]:
        """Run every pending stage in order; see :class:`Executor`."""
        pending = split_cached(stages, cache, on_done)
        workers = self.workers or local_workers(pending, ctx.device)
        with tqdm(total=len(pending), desc="stages", unit="stage", disable=not ctx.progress) as bar:
            if workers > 1:
                return self._in_workers(pending, cache, ctx, on_done, workers, bar)
            return self._here(pending, cache, ctx, on_done, bar)

    def _here(self, pending: list[Stage], cache: Cache, ctx: StageContext,
              on_done: Callable[[Stage], None], bar) -> list[Failure]:
        failed: dict[str, Failure] = {}
        for stage in pending:
            bar.update()
            skipped = failed_input(stage, failed)
            if skipped:
                failed[stage.key] = skipped
                continue
            bar.set_postfix_str(stage.title)
            log.info("running %s (%s)", stage.title, stage.label)
            try:
                cache.materialize(stage, ctx)
            except NoSpaceError:  # every later stage would fail too, each in its own words
                raise
            except Exception as error:  # noqa: BLE001 - one failed stage must not lose the others
                self._failed(stage, error, failed)
                continue
            on_done(stage)
        return list(failed.values())

    def _failed(self, stage: Stage, error: BaseException, failed: dict[str, Failure]) -> None:
        if not self.keep_going:
            raise error
        # the run's summary says it once (FAILED <job>: ...); -v shows it as it happens
        log.info("%s failed: %s: %s", stage.title, type(error).__name__, error, exc_info=error)
        failed[stage.key] = Failure(stage, failure_reason(error))

    def _in_workers(self, pending: list[Stage], cache: Cache, ctx: StageContext,
                    on_done: Callable[[Stage], None], workers: int, bar) -> list[Failure]:
        """Stages taking at most ``workers`` slots at once, each started once its inputs are built.

        Of the stages whose inputs are built, the first in the order given starts first; one
        that needs more slots than are free holds back those after it until it fits (no stage
        waits forever behind narrower ones).
        """
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from harness.plugins.loading import included_folders
        from harness.run.executors.workers import Quietness, driver_says, init_worker

        root = str(cache.root.resolve())
        worker_ctx = replace(ctx, cache=None, progress=False)  # bars of parallel stages would interleave
        included = tuple(str(folder) for folder in included_folders())
        spawn = multiprocessing.get_context("spawn")
        records = spawn.Queue()  # the workers' log lines, said here (harness.run.executors.workers)
        quietness = Quietness.of_this_process()

        def new_pool() -> ProcessPoolExecutor:
            return ProcessPoolExecutor(workers, mp_context=spawn, initializer=init_worker,
                                       initargs=(quietness, included, records))

        with driver_says(records):
            return self._schedule(new_pool, pending, root, worker_ctx, on_done, workers, bar)

    def _schedule(self, new_pool: Callable, pending: list[Stage], root: str,
                  worker_ctx: StageContext, on_done: Callable[[Stage], None], workers: int,
                  bar) -> list[Failure]:
        """Run ``pending`` in a pool from ``new_pool``; a pool whose worker died is replaced.

        A worker that ends abruptly (killed: out of memory, a signal) breaks the whole pool, and
        every stage running in it ends with :class:`BrokenProcessPool`, the culprit among them
        unknown: each goes back to wait for a fresh pool and then runs alone, so that a stage
        whose worker dies again (:data:`MAX_POOL_BREAKS`) is the culprit; it fails with that
        reason (its job is said FAILED; the run goes on, and the next run builds it again).
        """
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        from harness.run.executors.workers import build_stage

        pool = new_pool()
        breaks: dict[str, int] = {}  # stage key -> pools broken while it ran
        failed: dict[str, Failure] = {}
        waiting = list(pending)
        unbuilt = {stage.key for stage in pending}
        running: dict = {}
        slots = {stage.key: stage_slots(stage, workers) for stage in pending}
        try:
            while waiting or running:
                for stage in list(waiting):
                    free = workers - sum(slots[s.key] for s in running.values())
                    if free <= 0:
                        break
                    skipped = failed_input(stage, failed)
                    if skipped:
                        failed[stage.key] = skipped
                        unbuilt.discard(stage.key)
                        waiting.remove(stage)
                        bar.update()
                    elif not any(s.key in unbuilt for s in stage.inputs.values()):
                        if slots[stage.key] > free:
                            break  # it starts next, once enough stages finish
                        waiting.remove(stage)
                        log.info("running %s (%s)", stage.title, stage.label)
                        future = pool.submit(build_stage, root, pickle.dumps(stage), worker_ctx)
                        running[future] = stage
                if not running:
                    continue  # every stage left was skipped above
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in finished):
                    pool = self._replace_broken(pool, new_pool, running, waiting, breaks, failed,
                                                unbuilt, pending, bar)
                    slots.update({key: workers for key in breaks})  # suspects run alone
                    continue
                for future in sorted(finished, key=lambda f: pending.index(running[f])):
                    stage = running.pop(future)
                    unbuilt.discard(stage.key)
                    bar.update()
                    error = future.exception()
                    if error is None:
                        on_done(stage)
                    elif isinstance(error, NoSpaceError):
                        raise error
                    else:
                        self._failed(stage, error, failed)
        except BaseException:  # stopped, or a stage failed without keep_going: end the workers
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return list(failed.values())

    def _replace_broken(self, pool, new_pool: Callable, running: dict, waiting: list[Stage],
                        breaks: dict[str, int], failed: dict[str, Failure], unbuilt: set[str],
                        pending: list[Stage], bar):
        """A fresh pool for the stages a dead worker's pool took down (see :meth:`_schedule`)."""
        from concurrent.futures import wait

        wait(running)  # a broken pool ends every future it holds
        pool.shutdown(wait=False, cancel_futures=True)
        for stage in running.values():
            breaks[stage.key] = breaks.get(stage.key, 0) + 1
            if breaks[stage.key] >= MAX_POOL_BREAKS:
                unbuilt.discard(stage.key)
                bar.update()
                self._failed(stage, WorkerDiedError(
                    f"the worker process building it ended abruptly {breaks[stage.key]} times "
                    "(killed: out of memory, or a signal); run again to retry it"), failed)
            else:
                log.warning("%s: its worker process ended abruptly (killed: out of memory, or a "
                            "signal); building it again in a fresh worker", stage.title)
                waiting.append(stage)
        waiting.sort(key=pending.index)
        running.clear()
        return new_pool()
