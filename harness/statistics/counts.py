"""Per-example counts of result records as numpy arrays, several seeds stacked.

Example::

    sample = seed_counts(records)          # Sample(metric, counts [S seeds, n examples, k])
    sample.values()                        # the metric per seed, from the summed counts

An evaluation writes ``details["per_example"]`` (its metric's counts per test example, in split
order) and ``details["split_digest"]`` (:mod:`harness.tasks.predictions`). Records written before
evaluations kept them have neither: :func:`record_counts` returns None and the report shows
those cells without an interval. Seeds are stacked only when all were scored on the same
examples (equal digests); otherwise the records do not form one sample and that is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.run.records import ResultRecord
from harness.tasks.metrics import Metric, get_metric

PER_EXAMPLE, DIGEST = "per_example", "split_digest"


@dataclass(frozen=True)
class Sample:
    """One cell's counts: ``counts[s, i, j]`` is field ``j`` of example ``i`` under seed ``s``."""

    metric: Metric
    counts: np.ndarray
    digest: str

    @property
    def n(self) -> int:
        """How many test examples (sentences for NER and POS)."""
        return self.counts.shape[1]

    def values(self) -> np.ndarray:
        """The metric of each seed on the whole test split."""
        return self.metric.from_sums(self.counts.sum(axis=1))


def record_counts(record: ResultRecord) -> np.ndarray | None:
    """``[n, k]`` counts of ``record`` in its metric's field order, or None when it has none."""
    per_example = record.details.get(PER_EXAMPLE)
    if not per_example:
        return None
    fields = get_metric(record.metric).fields
    n = len(next(iter(per_example.values())))
    columns = [per_example.get(name, [1] * n) for name in fields]  # NLI: total is 1 per example
    return np.array(columns, dtype=np.float64).T


def seed_counts(records: Sequence[ResultRecord]) -> Sample | None:
    """The seeds of one cell stacked; None when any record lacks counts (no partial sample)."""
    arrays = [record_counts(r) for r in records]
    if not records or any(a is None for a in arrays):
        return None
    digests = {r.details.get(DIGEST) for r in records}
    if len(digests) != 1 or len({a.shape for a in arrays}) != 1:
        ids = ", ".join(r.job_id for r in records)
        raise ValueError(f"records {ids} were not scored on the same test examples "
                         f"(split digests {sorted(map(str, digests))})")
    return Sample(get_metric(records[0].metric), np.stack(arrays), digests.pop())
