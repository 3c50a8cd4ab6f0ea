"""Paired significance of two methods on the same test examples: approximate randomisation.

Example::

    result = approximate_randomisation(unibridge, baseline, rounds=10_000, seed=cell_seed(0, "ner", "amh"))
    result.difference, result.p_value      # metric(A) − metric(B), two-sided p

The test (Noreen 1989; Riezler & Maxwell 2005 for corpus metrics): under the null hypothesis
that the two methods are exchangeable, each test example's pair of outputs may come from either
method; each round swaps the two methods' counts on every example with probability ½, and
the p-value is the share of rounds whose absolute difference of the metric (computed from the
summed counts, so entity F1 is the corpus F1 it is, never a mean over sentences) reaches the
observed one: ``(1 + #{|d_r| ≥ |d|}) / (1 + R)``, which is never 0 and is a valid p-value.

Why not the paired bootstrap: its test resamples to estimate the spread of the difference and
then needs a shift to the null, which over-rejects on small test sets; Riezler & Maxwell found
approximate randomisation the more conservative of the two (fewer false positives, same power)
on non-decomposable corpus metrics, and Dror et al. (2018) recommend it for F1-type metrics.
It also needs no assumption about the shape of the difference's distribution, and on a tiny
test set it converges to the exact permutation test (all 2ⁿ swaps), which the tests check.

Several seeds: each method's counts per example are averaged over its seeds first (a swap moves
an example's outputs under every seed), so the statistic is the metric of the seed-averaged
counts — for accuracy the mean of the seeds' accuracies; for F1 the F1 of the pooled counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.statistics.counts import Sample

#: Rounds drawn at once (bounds the [chunk, n] swap matrix in memory).
CHUNK = 1000


@dataclass(frozen=True)
class PairedResult:
    """Observed difference metric(A) − metric(B), its two-sided p-value and the rounds used."""

    difference: float
    p_value: float
    rounds: int


def approximate_randomisation(a: Sample, b: Sample, rounds: int = 10_000, seed: int = 0) -> PairedResult:
    """Two-sided approximate randomisation test of ``a`` against ``b`` (module docstring)."""
    if a.digest != b.digest or a.n != b.n:
        raise ValueError(f"a paired test needs the same test examples; split digests {a.digest} "
                         f"({a.n} examples) and {b.digest} ({b.n})")
    if a.metric != b.metric:
        raise ValueError(f"a paired test needs one metric, got {a.metric.name} and {b.metric.name}")
    mean_a, mean_b = a.counts.mean(axis=0), b.counts.mean(axis=0)
    sum_a, sum_b = mean_a.sum(axis=0), mean_b.sum(axis=0)
    observed = float(a.metric.from_sums(sum_a) - a.metric.from_sums(sum_b))
    moved = mean_b - mean_a  # what swapping one example moves from B into A
    rng = np.random.default_rng(seed)
    reached = 0
    for start in range(0, rounds, CHUNK):
        swaps = rng.integers(0, 2, size=(min(CHUNK, rounds - start), a.n)).astype(np.float64)
        shift = swaps @ moved
        differences = a.metric.from_sums(sum_a + shift) - a.metric.from_sums(sum_b - shift)
        reached += int(np.count_nonzero(np.abs(differences) >= abs(observed) - 1e-9))
    return PairedResult(observed, (1 + reached) / (1 + rounds), rounds)
