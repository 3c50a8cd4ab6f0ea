"""What a stage reads, as its config declares it: task examples, monolingual text, sentence pairs.

Example::

    class EvaluationConfig(BaseModel):
        ...
        def data_reads(self) -> tuple[DataRead, ...]:
            return (TaskRead(self.task, self.lang, self.data.source, (self.split,)),)

    reads = graph_reads(topological_order(finals))   # what the selected jobs read, nothing else

Every stage config that holds a :class:`~harness.data.source.DataRef` or
:class:`~harness.data.parallel.ParallelRef` says here which languages and splits of it its stage
loads. ``validate`` and ``run`` check exactly these reads (:mod:`harness.planning.validation`) and
``fetch`` downloads exactly these (:mod:`harness.cli.fetch`), so any ``--only`` selection
narrows both by construction: a source no selected stage reads is neither checked nor fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from harness.core.graph import Stage
    from harness.data.parallel import ParallelCorpus
    from harness.data.source import DataSource
    from harness.tasks.specs import TaskRef

#: The splits a training stage reads of each source language: it trains on one and picks its
#: checkpoint on the other.
TRAINING_SPLITS = ("train", "validation")


@dataclass(frozen=True)
class TaskRead:
    """Examples of ``task`` in ``lang`` from ``source``: the ``splits`` a stage loads.

    ``task``: a registered name, or a YAML task's definition (:data:`harness.tasks.specs.TaskRef`).
    """

    task: TaskRef
    lang: str
    source: DataSource
    splits: tuple[str, ...]


@dataclass(frozen=True)
class TextRead:
    """Monolingual text of ``lang`` from ``source``: ``n_samples`` of ``words_per_sample`` words."""

    lang: str
    source: DataSource
    n_samples: int
    words_per_sample: int


@dataclass(frozen=True, eq=False)
class PairRead:
    """``k`` sentence pairs of (``target``, ``source``) from ``corpus`` (harmony distances)."""

    target: str
    source: str
    corpus: ParallelCorpus
    k: int

    def identity(self) -> tuple:
        """What makes two reads the same read (a corpus holds a dict: it is not hashable)."""
        return self.target, self.source, self.corpus.model_dump_json(), self.k


DataRead = TaskRead | TextRead | PairRead


@runtime_checkable
class ReadsData(Protocol):
    """A stage config that loads data declares what it loads."""

    def data_reads(self) -> tuple[DataRead, ...]:
        """Every read the stage makes."""


def task_reads(task: TaskRef, data: dict, splits: tuple[str, ...]) -> tuple[TaskRead, ...]:
    """One :class:`TaskRead` per language of ``data`` (language → DataRef)."""
    return tuple(TaskRead(task, lang, ref.source, splits) for lang, ref in data.items())


def graph_reads(stages: Iterable[Stage]) -> list[DataRead]:
    """The distinct reads of ``stages``, in order; task reads of one language merge their splits."""
    tasks: dict[tuple, TaskRead] = {}
    others: dict[tuple, DataRead] = {}
    for stage in stages:
        if not isinstance(stage.config, ReadsData):
            continue
        for read in stage.config.data_reads():
            if isinstance(read, TaskRead):
                key = (read.task, read.lang, read.source)
                splits = tasks[key].splits if key in tasks else ()
                tasks[key] = TaskRead(read.task, read.lang, read.source,
                                      tuple(dict.fromkeys(splits + read.splits)))
            else:
                others.setdefault(read.identity() if isinstance(read, PairRead) else read, read)
    return [*tasks.values(), *others.values()]
