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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from harness.core.graph import Cache, Stage, StageContext


@dataclass(frozen=True)
class Failure:
    """A stage that raised, or was skipped because an input failed."""

    stage: Stage
    reason: str


def failure_reason(error: BaseException) -> str:
    r"""One line for why a stage raised: the error's type and the first line of its message.

    The run's summary prints it once per failed job (``FAILED <job>: <stage>: <reason>``); a
    library's multi-line advice (torch's unpickling refusal, five lines) stays in the log at
    ``-v``. Example::

        failure_reason(ValueError("bad input data\nmore")) == "ValueError: bad input data"
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


class ExecutorUnavailableError(RuntimeError):
    """The chosen executor's optional dependency is not installed (e.g. Ray)."""


def failed_input(stage: Stage, failed: Mapping[str, Failure]) -> Failure | None:
    """The failure of ``stage`` when one of its inputs failed (it must not run), else None."""
    broken = [s for s in stage.inputs.values() if s.key in failed]
    return Failure(stage, f"input {broken[0].title} failed") if broken else None


def split_cached(stages: Sequence[Stage], cache: Cache, on_done: Callable[[Stage], None]) -> list[Stage]:
    """Call ``on_done`` for every cached stage; return the others (still in order)."""
    pending = []
    for stage in stages:
        if cache.is_done(stage):
            on_done(stage)
        else:
            pending.append(stage)
    return pending


class Executor(ABC):
    """Runs stages; see the module docstring for the contract."""

    @abstractmethod
    def execute(self, stages: Sequence[Stage], cache: Cache, ctx: StageContext,
                on_done: Callable[[Stage], None]) -> list[Failure]:
        """Materialize every stage not cached; return the failures (empty when all succeeded)."""
