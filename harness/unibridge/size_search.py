"""How the vocabulary-size search walks Algorithm 1's grid of sizes (stage 1's strategies).

Example::

    memo = AlpMemo(trainer.evaluate)                  # {size: ALP}, each size trained once
    index = bracketed_search(memo, grid, threshold)   # == linear_scan(memo, grid, threshold)

:func:`linear_scan` is Algorithm 1's loop verbatim: the first index k of ``grid`` with
Δ_s = ALP(grid[k]) − ALP(grid[k − 1]) ≤ ε_s, None when the grid ends first.

The fast search (:func:`bracketed_search`) returns the same size with fewer trainings when ALP is
a concave curve of v plus an error of at most ``DELTA_NOISE``/2 per size (SentencePiece's
training noise), so every Δ_s is within ``DELTA_NOISE`` of a non-increasing Δ. It trains v_i,
v_i + δ_v and v_i + 4δ_v (not v_m, which costs a large training and may not fit the corpus),
then pairs (v − δ_v, v) placed by a power-law fit of ALP (bisection after two misses) until it
has certified a lower end ``lo``: a chord of ALP between evaluated sizes, minus
the noise allowance, bounds every Δ_s below ``lo`` above ε_s. It then runs Algorithm 1's loop
from ``lo`` (:func:`scan_from`) on cached trainings, so the returned size always has a measured
Δ_s ≤ ε_s and every earlier Δ_s is measured or certified > ε_s. Non-monotone Δ_s above ``lo``
cost nothing; only chords below ``lo`` that rise by more than the noise allows make it warn and
scan from v_i (still reusing the cache).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

_FIRST_FIT_POINT = 4  # grid index of the third size trained, for the first power-law fit
_MAX_MODEL_STEPS = 2  # interpolated probes before the search falls back to bisection
_MAX_PROBES = 8  # probe pairs before the scan starts from the lower end reached
_SCAN_WIDTH = 3  # scan once at most this many sizes separate the lower end from the crossing
DELTA_NOISE = 0.5  # ALP noise allowance (per-sentence nats): Δ_s may stray this far from a concave curve

Evaluate = Callable[[Sequence[int]], Mapping[int, float]]


class AlpMemo:
    """ALP values evaluated so far (an evaluation is asked for only once)."""

    def __init__(self, evaluate: Evaluate):
        self.evaluate = evaluate
        self.alp: dict[int, float] = {}

    def get(self, sizes: Sequence[int]) -> list[float]:
        """ALP of each of ``sizes``, evaluating the unknown ones in one call."""
        missing = [s for s in dict.fromkeys(sizes) if s not in self.alp]
        if missing:
            self.alp.update(self.evaluate(missing))
        return [self.alp[s] for s in sizes]



def linear_scan(memo: AlpMemo, grid: Sequence[int], threshold: float) -> int | None:
    """Algorithm 1's loop: index of the first size with Δ_s ≤ ε_s, None when the cap is hit."""
    (previous,) = memo.get([grid[0]])
    for k in range(1, len(grid)):
        (current,) = memo.get([grid[k]])
        if current - previous <= threshold:
            return k
        previous = current
    return None


def bracketed_search(memo: AlpMemo, grid: Sequence[int], threshold: float,
                     noise: float = DELTA_NOISE) -> int | None:
    """Same index as :func:`linear_scan` when ALP is concave up to ``noise`` (see module doc).

    Phase 1 trains a few sizes to find ``lo``: every Δ_s before index ``lo`` is provably > ε_s.
    Phase 2 is Algorithm 1's loop resumed at ``lo`` (:func:`scan_from`), so the answer is always
    a directly measured Δ_s ≤ ε_s with every earlier Δ_s > ε_s.
    """
    last = len(grid) - 1
    if last == 0:
        return None
    memo.get([grid[0], grid[1], grid[min(last, _FIRST_FIT_POINT)]])
    lo = _locate(memo, grid, threshold, noise)
    if _violations(memo, grid, lo, noise):
        log.warning("ALP is not concave within the noise %.2f below size %d: linear scan",
                    noise, grid[min(lo, last)])
        lo = 1
    return scan_from(memo, grid, threshold, lo)


def scan_from(memo: AlpMemo, grid: Sequence[int], threshold: float, lo: int) -> int | None:
    """Algorithm 1's loop from index ``lo`` on: first k ≥ lo with Δ_s(k) ≤ ε_s, None at the cap."""
    for k in range(max(lo, 1), len(grid)):
        previous, current = memo.get([grid[k - 1], grid[k]])
        if current - previous <= threshold:
            return k
    return None


def _locate(memo: AlpMemo, grid: Sequence[int], threshold: float, noise: float) -> int:
    """Probe pairs (k − 1, k) until few sizes are left to scan from ``lo``; returns ``lo``.

    Each probe aims just below where the fitted curve's Δ_s enters ε_s + 2·noise, the last place
    a measured pair can still certify "Δ_s > ε_s below here"; bisection after model misses.
    """
    for step in range(_MAX_PROBES):
        lo = _certain_lower_end(memo, grid, threshold, noise)
        hi = _first_measured_crossing(memo, grid, threshold)
        if lo >= len(grid) or hi - lo <= _SCAN_WIDTH:
            break
        if _predict(memo, grid, threshold, lo, hi - 1) - lo <= _SCAN_WIDTH:
            break
        target = max(lo, _predict(memo, grid, threshold + 2 * noise, lo, hi - 1) - 1)
        if step >= _MAX_MODEL_STEPS or _known_pair(memo, grid, target):
            target = (lo + hi) // 2
        if _known_pair(memo, grid, target):
            break
        memo.get([grid[target - 1], grid[target]])
    return _certain_lower_end(memo, grid, threshold, noise)


def _known_pair(memo: AlpMemo, grid: Sequence[int], k: int) -> bool:
    return grid[k - 1] in memo.alp and grid[k] in memo.alp


def _evaluated(memo: AlpMemo, grid: Sequence[int]) -> list[int]:
    return [k for k in range(len(grid)) if grid[k] in memo.alp]


def _certain_lower_end(memo: AlpMemo, grid: Sequence[int], threshold: float, noise: float) -> int:
    """Largest ``lo`` with Δ_s(m) > ε_s certain for every m < lo, from chords of evaluated sizes.

    With ALP = concave curve + error of at most ``noise``/2, the chord of evaluated i < j bounds
    the concave part's Δ(m) ≥ chord − noise/(j − i) for m ≤ i + 1, and the scan's Δ_s(m) is within
    ``noise`` of it.
    """
    points, lo = _evaluated(memo, grid), 1
    for a, i in enumerate(points):
        for j in points[a + 1:]:
            bound = _chord(memo, grid, i, j) - noise / (j - i) - noise
            if bound > threshold:
                lo = max(lo, i + 2)
    return lo


def _first_measured_crossing(memo: AlpMemo, grid: Sequence[int], threshold: float) -> int:
    """Smallest k with both sizes evaluated and Δ_s(k) ≤ ε_s; len(grid) when there is none."""
    points = _evaluated(memo, grid)
    crossings = [k for k in points if k - 1 in points and _chord(memo, grid, k - 1, k) <= threshold]
    return min(crossings, default=len(grid))


def _violations(memo: AlpMemo, grid: Sequence[int], lo: int, noise: float) -> bool:
    """Whether chords of consecutive evaluated sizes up to ``lo`` increase by more than noise allows."""
    points = [k for k in _evaluated(memo, grid) if k <= lo]
    spans = list(zip(points, points[1:]))
    for (i, j), (_, n) in zip(spans, spans[1:]):
        if _chord(memo, grid, j, n) - _chord(memo, grid, i, j) > noise / (j - i) + noise / (n - j):
            return True
    return False


def _chord(memo: AlpMemo, grid: Sequence[int], i: int, j: int) -> float:
    """Mean Δ_s over steps i+1..j: (ALP(grid[j]) − ALP(grid[i])) / (j − i)."""
    return (memo.alp[grid[j]] - memo.alp[grid[i]]) / (j - i)


def _predict(memo: AlpMemo, grid: Sequence[int], threshold: float, lo: int, top: int) -> int:
    """Index in [lo, top] where Δ_s is expected to reach ε_s, from a curve fitted to the ALPs.

    The model ALP(v) = α + β·h_p(v) with h_p(v) = v^(1−p) / (1−p) (log v for p = 1) makes Δ_s
    decay like v^(−p), the flattening Algorithm 1 looks for; α, β are least squares for each p of
    a grid and the best p wins. Only where to probe depends on it, never the answer.
    """
    known = sorted(set(memo.alp) & set(grid))
    sizes = np.array(known, dtype=np.float64) / grid[0]
    alps = np.array([memo.alp[s] for s in known])
    _, p, beta = min((_fit(sizes, alps, p) for p in np.linspace(0.0, 3.0, 301)), key=lambda f: f[0])
    candidates = np.arange(lo, top + 1)
    v = np.array([grid[k] for k in candidates], dtype=np.float64) / grid[0]
    delta = beta * (_shape(v, p) - _shape(v - (grid[1] - grid[0]) / grid[0], p))
    below = np.flatnonzero(delta <= threshold)
    return int(candidates[below[0]]) if below.size else top


def _shape(v: np.ndarray, p: float) -> np.ndarray:
    return np.log(v) if abs(p - 1) < 1e-9 else v ** (1 - p) / (1 - p)


def _fit(sizes: np.ndarray, alps: np.ndarray, p: float) -> tuple[float, float, float]:
    """(squared residual, p, β) of the least-squares fit ALP ≈ α + β·h_p(v)."""
    design = np.stack([np.ones_like(sizes), _shape(sizes, p)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, alps, rcond=None)
    residual = float(np.sum((design @ coefficients - alps) ** 2))
    return residual, float(p), float(coefficients[1])

