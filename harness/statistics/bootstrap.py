"""95 % intervals by bootstrap over test examples (sentences for NER and POS), vectorised.

Example::

    config = StatisticsConfig(samples=1000, seed=0)
    weights = resample_weights(sample.n, config.samples, cell_seed(config.seed, "ner", "amh"))
    estimate = estimate_cell(sample, weights, config.level)   # mean, spread over seeds, interval

A replicate draws ``n`` examples with replacement; its metric is the metric of the drawn
examples' summed counts (F1 from summed tp/fp/fn, not a mean of per-sentence F1s). Replicates are
stored as a ``[B, n]`` matrix of how often each example was drawn, so every replicate of every
seed is one matrix product with the ``[n, seeds·fields]`` counts. With several seeds the same
draws serve every seed (the seeds share one test set), each replicate's value is the mean of
the seeds' metrics, and the interval is that of the mean over seeds; the spread across seeds
(sample standard deviation) is reported beside it, as it measures training noise, which the
bootstrap over test examples does not.

The interval is the percentile interval (the 2.5th and 97.5th percentiles of the replicates,
numpy's linear interpolation), as ``scipy.stats.bootstrap(method="percentile")`` computes it.
Draws are seeded per (task, language) from ``StatisticsConfig.seed``
(:func:`cell_seed`): the same seed gives the same intervals, every method on a language is
resampled with the same draws (so differences are paired), and two languages are drawn
independently (so an average over languages has the variance of independent test sets).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.statistics.counts import Sample


@dataclass(frozen=True)
class Estimate:
    """A cell: mean over seeds, their sample std (None for one seed), the bootstrap interval."""

    mean: float
    spread: float | None
    low: float
    high: float
    replicates: np.ndarray

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (ends included)."""
        return self.low <= value <= self.high


def one_blas_thread():
    """A context in which numpy's BLAS runs one thread.

    The products here are skinny (``[B, n] @ [n, a few dozen]``) and bound by reading memory;
    a threaded BLAS gains nothing on them and, on a machine whose cores are busy (a report
    written while jobs run), its spinning threads made them 5–10 times slower
    (benchmarks/significance.py).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def cell_seed(seed: int, *names: str) -> int:
    """A seed for the draws of one test set, from the run's seed and its names (task, language)."""
    digest = hashlib.sha256("/".join([str(seed), *names]).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def resample_weights(n: int, samples: int, seed: int) -> np.ndarray:
    """``[samples, n]``: how often each of ``n`` examples is drawn in each replicate (rows sum to n)."""
    draws = np.random.default_rng(seed).integers(0, n, size=(samples, n))
    offsets = (draws + n * np.arange(samples)[:, None]).ravel()
    # float32 holds the products exactly (integer sums far below 2**24) at half the memory traffic
    return np.bincount(offsets, minlength=samples * n).reshape(samples, n).astype(np.float32)


def replicate_values(samples: Sequence[Sample], weights: np.ndarray) -> list[np.ndarray]:
    """Per sample ``[B]``: the mean over its seeds of the metric of each replicate's summed counts.

    All samples share ``weights`` (one test set): their counts go side by side into one
    ``[n, Σ seeds·fields]`` matrix and one product with the ``[B, n]`` weights, whose cost is
    reading the weights, so a language's cells cost about what one cell does.
    """
    n = weights.shape[1]
    if any(sample.n != n for sample in samples):
        raise ValueError(f"{n} resampling weights per replicate for samples of "
                         f"{sorted({s.n for s in samples})} examples")
    columns = [s.counts.transpose(1, 0, 2).reshape(n, -1) for s in samples]
    with one_blas_thread():
        sums = (weights @ np.concatenate(columns, axis=1).astype(weights.dtype)).astype(np.float64)
    values, start = [], 0
    for sample, width in zip(samples, (c.shape[1] for c in columns)):
        seeds, fields = sample.counts.shape[0], sample.counts.shape[2]
        block = sums[:, start:start + width].reshape(len(weights), seeds, fields)
        values.append(sample.metric.from_sums(block).mean(axis=1))
        start += width
    return values


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The ``level`` percentile interval of ``replicates`` (last axis)."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail], axis=-1)
    return float(low), float(high)


def estimate_cells(samples: Sequence[Sample], weights: np.ndarray, level: float = 0.95) -> list[Estimate]:
    """Per sample of one test set: mean over seeds, spread across seeds, interval of the mean."""
    estimates = []
    for sample, replicates in zip(samples, replicate_values(samples, weights)):
        values = sample.values()
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else None
        estimates.append(Estimate(float(values.mean()), spread, *percentile_interval(replicates, level),
                                  replicates))
    return estimates


def estimate_cell(sample: Sample, weights: np.ndarray, level: float = 0.95) -> Estimate:
    """:func:`estimate_cells` of one sample."""
    return estimate_cells([sample], weights, level)[0]


def estimate_mean(estimates: list[Estimate], level: float = 0.95) -> tuple[float, float]:
    """Interval of the mean of several cells (a row average over independent test sets)."""
    return percentile_interval(np.mean([e.replicates for e in estimates], axis=0), level)
