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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.statistics.bootstrap import one_blas_thread
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
    return randomisation_tests([(a, b)], rounds, seed)[0]


def randomisation_tests(pairs: Sequence[tuple[Sample, Sample]], rounds: int = 10_000,
                        seed: int = 0) -> list[PairedResult]:
    """:func:`approximate_randomisation` of several pairs on one test set, with the same swaps.

    Every pair of one test set (the rows of one language) is tested with the same rounds, so
    each chunk of swaps is drawn once and applied to every pair in one matrix product.
    """
    for a, b in pairs:
        _check_pair(a, b)
    n, metric = pairs[0][0].n, pairs[0][0].metric
    if any(a.n != n or a.metric != metric for a, _ in pairs):
        raise ValueError("tests run together need one test set and one metric")
    mean_a = np.stack([a.counts.mean(axis=0) for a, _ in pairs], axis=1)  # [n, pairs, fields]
    mean_b = np.stack([b.counts.mean(axis=0) for _, b in pairs], axis=1)
    sum_a, sum_b = mean_a.sum(axis=0), mean_b.sum(axis=0)
    observed = metric.from_sums(sum_a) - metric.from_sums(sum_b)
    moved = (mean_b - mean_a).reshape(n, -1)  # what swapping one example moves from B into A
    rng = np.random.default_rng(seed)
    reached = np.zeros(len(pairs), dtype=np.int64)
    with one_blas_thread():
        for start in range(0, rounds, CHUNK):
            shift = (_swaps(rng, min(CHUNK, rounds - start), n) @ moved).reshape(-1, *sum_a.shape)
            differences = metric.from_sums(sum_a + shift) - metric.from_sums(sum_b - shift)
            reached += np.count_nonzero(np.abs(differences) >= np.abs(observed) - 1e-9, axis=0)
    return [PairedResult(float(d), (1 + int(k)) / (1 + rounds), rounds) for d, k in zip(observed, reached)]


def _swaps(rng: np.random.Generator, rounds: int, n: int) -> np.ndarray:
    """``[rounds, n]`` fair coin flips (1: swap), eight from every random byte."""
    packed = rng.integers(0, 256, size=(rounds, (n + 7) // 8), dtype=np.uint8)
    return np.unpackbits(packed, axis=1, count=n).astype(np.float64)


def _check_pair(a: Sample, b: Sample) -> None:
    if a.digest != b.digest or a.n != b.n:
        raise ValueError(f"a paired test needs the same test examples; split digests {a.digest} "
                         f"({a.n} examples) and {b.digest} ({b.n})")
    if a.metric != b.metric:
        raise ValueError(f"a paired test needs one metric, got {a.metric.name} and {b.metric.name}")
