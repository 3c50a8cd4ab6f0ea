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
from dataclasses import dataclass

import numpy as np

from harness.statistics.counts import Sample


@dataclass(frozen=True)
class StatisticsConfig:
    """Bootstrap replicates, randomisation rounds, seed, interval level and test level."""

    samples: int = 1000
    rounds: int = 10_000
    seed: int = 0
    level: float = 0.95
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.samples < 1 or self.rounds < 1:
            raise ValueError(f"bootstrap samples and randomisation rounds must be ≥ 1, got "
                             f"{self.samples} and {self.rounds}")
        if not 0 < self.level < 1 or not 0 < self.alpha < 1:
            raise ValueError(f"level and alpha must lie in (0, 1), got {self.level} and {self.alpha}")


#: The report's defaults (B = 1,000 replicates, 10,000 rounds, seed 0).
DEFAULT_STATISTICS = StatisticsConfig()


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


def cell_seed(seed: int, *names: str) -> int:
    """A seed for the draws of one test set, from the run's seed and its names (task, language)."""
    digest = hashlib.sha256("/".join([str(seed), *names]).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def resample_weights(n: int, samples: int, seed: int) -> np.ndarray:
    """``[samples, n]``: how often each of ``n`` examples is drawn in each replicate (rows sum to n)."""
    draws = np.random.default_rng(seed).integers(0, n, size=(samples, n))
    offsets = (draws + n * np.arange(samples)[:, None]).ravel()
    return np.bincount(offsets, minlength=samples * n).reshape(samples, n).astype(np.float64)


def replicate_values(sample: Sample, weights: np.ndarray) -> np.ndarray:
    """``[B]``: the mean over seeds of the metric of each replicate's summed counts."""
    seeds, n, fields = sample.counts.shape
    if weights.shape[1] != n:
        raise ValueError(f"{weights.shape[1]} resampling weights per replicate for {n} examples")
    stacked = sample.counts.transpose(1, 0, 2).reshape(n, seeds * fields)
    sums = (weights @ stacked).reshape(len(weights), seeds, fields)
    return sample.metric.from_sums(sums).mean(axis=1)


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The ``level`` percentile interval of ``replicates`` (last axis)."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail], axis=-1)
    return float(low), float(high)


def estimate_cell(sample: Sample, weights: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean over seeds, spread across seeds, and the bootstrap interval of the mean."""
    values = sample.values()
    replicates = replicate_values(sample, weights)
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return Estimate(float(values.mean()), spread, *percentile_interval(replicates, level), replicates)


def estimate_mean(estimates: list[Estimate], level: float = 0.95) -> tuple[float, float]:
    """Interval of the mean of several cells (a row average over independent test sets)."""
    return percentile_interval(np.mean([e.replicates for e in estimates], axis=0), level)
