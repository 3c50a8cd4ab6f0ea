"""How the report's statistics are drawn: replicates, rounds, seed, levels, margin (no numpy imported).

Example::

    StatisticsConfig(samples=2000, seed=1)   # ``report --bootstrap-samples 2000 --statistics-seed 1``
    StatisticsConfig(margin=2.0)             # ``report --margin 2``: verdicts against ±2 points

Kept apart from the functions so the report layer and the CLI can hold a configuration
without importing numpy at startup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.statistics.verdict import DEFAULT_MARGIN


@dataclass(frozen=True)
class StatisticsConfig:
    """Bootstrap replicates, randomisation rounds, seed, interval level, test level and margin.

    ``margin``: the band ±margin (metric points) the interval of Δ = ours − paper is judged
    against (:mod:`harness.statistics.verdict`).
    """

    samples: int = 1000
    rounds: int = 10_000
    seed: int = 0
    level: float = 0.95
    alpha: float = 0.05
    margin: float = DEFAULT_MARGIN

    def __post_init__(self) -> None:
        if self.samples < 1 or self.rounds < 1:
            raise ValueError(f"bootstrap samples and randomisation rounds must be ≥ 1, got "
                             f"{self.samples} and {self.rounds}")
        if not 0 < self.level < 1 or not 0 < self.alpha < 1:
            raise ValueError(f"level and alpha must lie in (0, 1), got {self.level} and {self.alpha}")
        if not math.isfinite(self.margin) or self.margin < 0:
            raise ValueError(f"the margin is a distance in metric points, finite and ≥ 0; got {self.margin}")


#: The report's defaults (B = 1,000 replicates, 10,000 rounds, seed 0, margin 1 point).
DEFAULT_STATISTICS = StatisticsConfig()


