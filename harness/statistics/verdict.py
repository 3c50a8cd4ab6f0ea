"""Whether our number agrees with the paper's: a verdict from the interval of Δ = ours − paper.

Example::

    verdict((48.7, 50.4), paper=49.6, margin=1.0)   # "consistent": Δ in [−0.9, +0.8] ⊆ [−1, +1]
    verdict((44.0, 46.0), paper=49.6, margin=1.0)   # "differs": Δ in [−5.6, −3.6], all below −1
    verdict((45.0, 52.0), paper=49.6, margin=1.0)   # "inconclusive": the interval is too wide

The paper's number is a constant, so the interval of Δ is our cell's interval
(:mod:`harness.statistics.bootstrap`) shifted by it. The margin is a band ``[−margin, +margin]``
of metric points, ends included: Δ's whole interval inside the band is *consistent*, its whole
interval outside the band (not touching it) *differs*, anything else *inconclusive*. An interval
that ends exactly on the margin is inside; one that starts exactly on it touches the band and
is inconclusive. "Exactly" allows :data:`TOLERANCE` for the rounding of differences of numbers
printed with two decimals (``48.6 − 49.6`` is ``−1.0000000000000036`` in floating point).
Rationale and limits: docs/choices.md, "Verdicts against the paper".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

Verdict = Literal["consistent", "inconclusive", "differs"]
#: The verdicts in the order the report counts them.
VERDICTS: tuple[Verdict, ...] = ("consistent", "inconclusive", "differs")
#: The default margin, in points of the metric (F1 and accuracy ×100): ``report --margin``.
DEFAULT_MARGIN = 1.0
#: How far from the margin an end still counts as on it (floating-point rounding only).
TOLERANCE = 1e-9


def delta_interval(interval: tuple[float, float], paper: float) -> tuple[float, float]:
    """The interval of Δ = ours − paper: ours shifted by the paper's (constant) number."""
    low, high = sorted(interval)
    return low - paper, high - paper


def verdict(interval: tuple[float, float], paper: float, margin: float = DEFAULT_MARGIN) -> Verdict:
    """The verdict on one cell (module docstring): consistent, differs or inconclusive."""
    if margin < 0:
        raise ValueError(f"the margin is a distance in metric points, ≥ 0; got {margin}")
    low, high = delta_interval(interval, paper)
    if low >= -margin - TOLERANCE and high <= margin + TOLERANCE:
        return "consistent"
    if high < -margin - TOLERANCE or low > margin + TOLERANCE:
        return "differs"
    return "inconclusive"


def count_verdicts(verdicts: Iterable[Verdict]) -> dict[Verdict, int]:
    """How many cells got each verdict, every verdict present (0 where none), in :data:`VERDICTS` order."""
    found = Counter(verdicts)
    unknown = set(found) - set(VERDICTS)
    if unknown:
        raise ValueError(f"not a verdict: {sorted(unknown)}; the verdicts are {', '.join(VERDICTS)}")
    return {name: found[name] for name in VERDICTS}
