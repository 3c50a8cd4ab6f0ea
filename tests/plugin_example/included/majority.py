"""An included plugin module (``--include tests/plugin_example/included``): a baseline and a table.

``majority_label``: every word (tagging) or sentence pair gets the label most frequent in the
source languages' training data, the floor any transfer method must clear; it trains nothing.
``method_means``: each method's mean score per task over every language and seed of the run.

The harness calls :func:`register` when it loads the folder (docs/extending.md).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.api import DataRef, Method, Stage, StageContext, Table, TaskRead


class MajorityConfig(BaseModel):
    """The task, the scored language and split, and the sources whose labels are counted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    lang: str
    data: DataRef
    sources: dict[str, DataRef]
    split: str = "test"

    def data_reads(self) -> tuple[TaskRead, ...]:
        """The sources' training splits and the scored split (``validate`` checks these)."""
        counted = tuple(TaskRead(self.task, lang, ref.source, ("train",))
                        for lang, ref in self.sources.items())
        return (*counted, TaskRead(self.task, self.lang, self.data.source, (self.split,)))


def _labels(gold: list) -> list[str]:
    """Every label of a task's gold list (one per example, or one list per example)."""
    return [label for item in gold for label in (item if isinstance(item, list) else [item])]


class MajorityEvaluationStage(Stage):
    """Predict the sources' most frequent training label everywhere and score it."""

    kind = "evaluation"

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Count the sources' training labels, predict the top one, write ``metrics.json``."""
        from harness.api import get_task, write_scores

        config: MajorityConfig = self.config
        task = get_task(config.task)
        counts = Counter()
        for lang, ref in config.sources.items():
            counts.update(_labels(task.gold(task.load(ref.source, lang, "train"))))
        majority = min(label for label, n in counts.items() if n == max(counts.values()))
        examples = task.load(config.data.source, config.lang, config.split)
        predictions = [[majority] * len(item) if isinstance(item, list) else majority
                       for item in task.gold(examples)]
        write_scores(out, task, examples, predictions,
                     {"majority": majority, "n_examples": len(examples), "split": config.split})


class MajorityLabelConfig(BaseModel):
    """No hyperparameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MajorityLabel(Method):
    """The majority-label baseline (trains nothing)."""

    Config = MajorityLabelConfig
    description = "every prediction is the sources' most frequent training label (floor baseline)"

    def build(self, job, env) -> Stage:
        """One evaluation stage reading the sources' training labels and the target's split."""
        sources = {lang: env.task_data(job.task, lang) for lang in env.sources(job.task)}
        return MajorityEvaluationStage(MajorityConfig(task=job.task, lang=job.lang, sources=sources,
                                                      data=env.task_data(job.task, job.lang)))


def method_means(records):
    """Each method's mean score per task (every language and seed of the run)."""
    scores: dict[tuple[str, str, str], list[float]] = {}
    for record in records:
        scores.setdefault((record.task, record.backbone, record.method), []).append(record.value)
    if not scores:
        return None
    rows = tuple((task, backbone, method, round(statistics.mean(values), 2), len(values))
                 for (task, backbone, method), values in sorted(scores.items()))
    return Table("method-means", ("task", "backbone", "method", "mean", "jobs"), rows)


def register(registries):
    """The hook the harness calls: one method and one table."""
    registries.methods.register("majority_label", MajorityLabel)
    registries.tables.register("method_means", method_means)
