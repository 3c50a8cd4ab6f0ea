"""The executor interface: run the not-yet-cached stages of a graph in dependency order.

Example::

    failures = LocalExecutor().execute(stages, cache, ctx, on_done=write_result)

An executor receives stages in topological order (inputs first), skips cached ones, never runs a
stage whose input failed, and calls ``on_done(stage)`` as soon as a stage's artifact exists, so a
result is recorded the moment its evaluation finishes. A cluster executor (Ray) implements the
same method and may run independent stages concurrently.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.graph import Cache, Stage, StageContext


@dataclass(frozen=True)
class Failure:
    """A stage that raised, or was skipped because an input failed."""

    stage: Stage
    reason: str


class Executor(ABC):
    """Runs stages; see the module docstring for the contract."""

    @abstractmethod
    def execute(self, stages: Sequence[Stage], cache: Cache, ctx: StageContext,
                on_done: Callable[[Stage], None]) -> list[Failure]:
        """Materialize every stage not cached; return the failures (empty when all succeeded)."""
