"""Holm–Bonferroni correction over a family of tests (the languages of a table row).

Example::

    holm([0.01, 0.04, 0.03])   # [0.03, 0.06, 0.06]: reject at 0.05 only the first

Holm (1979), "A simple sequentially rejective multiple test procedure": sort the m p-values,
multiply the i-th smallest by m − i + 1, keep the sequence non-decreasing, cap at 1. Rejecting
where the adjusted p-value is below α controls the family-wise error rate at α under any
dependence between the tests, and rejects everything Bonferroni rejects.
"""

from __future__ import annotations

from collections.abc import Sequence


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
