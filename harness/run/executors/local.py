"""Run stages one after another in this process, with a progress bar.

Example::

    failures = LocalExecutor(keep_going=True).execute(stages, cache, ctx, on_done)

With ``keep_going`` a failed stage only stops the stages that depend on it; the others (other
languages, other methods) still run and record their results. A full disk
(:class:`harness.core.workdir.NoSpaceError`) stops the run: every other stage would fail too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from tqdm.auto import tqdm

from harness.core.executor import Executor, Failure, failed_input, failure_reason, split_cached
from harness.core.graph import Cache, Stage, StageContext
from harness.core.workdir import NoSpaceError

log = logging.getLogger(__name__)


class LocalExecutor(Executor):
    """Sequential in-process executor."""

    def __init__(self, keep_going: bool = True):
        self.keep_going = keep_going

    def execute(self, stages: Sequence[Stage], cache: Cache, ctx: StageContext,
                on_done: Callable[[Stage], None]) -> list[Failure]:
        """Run every pending stage in order; see :class:`Executor`."""
        failed: dict[str, Failure] = {}
        pending = split_cached(stages, cache, on_done)
        bar = tqdm(pending, desc="stages", unit="stage", disable=not ctx.progress)
        for stage in bar:
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
                if not self.keep_going:
                    raise
                # the run's summary says it once (FAILED <job>: ...); -v shows it as it happens
                log.info("%s failed: %s: %s", stage.title, type(error).__name__, error, exc_info=True)
                failed[stage.key] = Failure(stage, failure_reason(error))
                continue
            on_done(stage)
        return list(failed.values())
