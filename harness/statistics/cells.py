"""The report's statistics: an interval on every cell, paired marks, a "reproduced?" line.

Example::

    table = annotate(fill_without_statistics, run)   # called by harness.report.build.fill
    table.reproduced       # "11 of 14 paper cells inside our 95 % interval; mean Δ −1.20"
    compare_tests(records_a, records_b, StatisticsConfig())   # report --compare's p-values

Per cell of a language table (the metric, not vocabulary sizes; not Table 5, whose spread is
over languages): the bootstrap interval of the mean over seeds (:mod:`.bootstrap`); an
average's interval is that of the mean of its languages (independent test sets, each drawn
with its own seed). Per language, every other row of the same backbone family is tested
against UniBridge's row (:mod:`.paired`, two-sided), the p-values of one row corrected over the
table's languages (:mod:`.multiple`); a cell is marked † where UniBridge is significantly
better than that row, ‡ where it is significantly worse. Cells whose records carry no
per-example counts (records older than evaluation version 5) get neither and are not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from harness.results import ResultRecord
from harness.statistics.bootstrap import (
    Estimate,
    StatisticsConfig,
    cell_seed,
    estimate_cell,
    estimate_mean,
    resample_weights,
)
from harness.statistics.counts import Sample, seed_counts
from harness.statistics.multiple import holm
from harness.statistics.paired import approximate_randomisation

if TYPE_CHECKING:
    from harness.report.build import Cell, FilledRow, FilledTable

REFERENCE = "unibridge"
BETTER, WORSE = "†", "‡"


def significance_footnote(config: StatisticsConfig) -> str:
    """The footnote naming the test and the correction."""
    return (f"{BETTER} / {WORSE}: UniBridge significantly better / worse than this row on this "
            f"language (approximate randomisation over test examples, {config.rounds} rounds, "
            f"two-sided; Holm–Bonferroni over the table's languages; α = {config.alpha:g}). "
            f"Intervals: {config.level:.0%} percentile bootstrap over test examples, "
            f"{config.samples} replicates, seed {config.seed}.")


class CellSampler:
    """Samples of records and their estimates, with one set of draws per (task, language, n)."""

    def __init__(self, config: StatisticsConfig):
        self.config = config
        self._weights: dict[tuple[str, str, int], np.ndarray] = {}

    def estimate(self, records: Sequence[ResultRecord]) -> tuple[Sample, Estimate] | None:
        """The cell's sample and estimate; None without per-example counts."""
        sample = seed_counts(_one_per_seed(records))
        if sample is None:
            return None
        task, lang = records[0].task, records[0].lang
        key = (task, lang, sample.n)
        if key not in self._weights:
            self._weights[key] = resample_weights(sample.n, self.config.samples,
                                                  cell_seed(self.config.seed, task, lang))
        return sample, estimate_cell(sample, self._weights[key], self.config.level)

    def paired_p(self, a: Sample, b: Sample, task: str, lang: str) -> tuple[float, float]:
        """Difference metric(a) − metric(b) and its p-value (approximate randomisation)."""
        result = approximate_randomisation(a, b, self.config.rounds,
                                           cell_seed(self.config.seed, task, lang, "paired"))
        return result.difference, result.p_value


def _one_per_seed(records: Sequence[ResultRecord]) -> list[ResultRecord]:
    """The last record of each seed (merged runs may repeat a job), as the table's cell reads them."""
    return list({r.seed: r for r in records}.values())


def annotate(table: FilledTable, records: Sequence[ResultRecord], config: StatisticsConfig) -> FilledTable:
    """``table`` with intervals, paired marks, the "reproduced?" line and the test's footnote."""
    spec = table.spec
    if spec.is_hyperparameters or spec.value != "metric" or spec.aggregate == "mean_std":
        return table
    sampler = CellSampler(config)
    by_cell: dict[tuple[str, str, str], list[ResultRecord]] = defaultdict(list)
    for r in records:
        if r.task == spec.task:
            by_cell[(r.method, r.backbone, r.lang)].append(r)
    samples: list[list[tuple[Sample, Estimate] | None]] = [
        [sampler.estimate(by_cell[(row.method, row.backbone, lang)]) if by_cell.get(
            (row.method, row.backbone, lang)) else None for lang in spec.languages] for row in table.rows]
    rows = [_with_intervals(row, found, config.level) for row, found in zip(table.rows, samples)]
    tested = _mark_rows(rows, samples, sampler, spec.task, spec.languages)
    return replace(table, rows=tuple(rows), reproduced=reproduced_line(rows),
                   significance_note=significance_footnote(config) if tested else None)


def _with_intervals(row: FilledRow, found: list, level: float) -> FilledRow:
    cells = tuple(cell if f is None else replace(cell, interval=(f[1].low, f[1].high))
                  for cell, f in zip(row.cells, found))
    average = row.average
    if average is not None and average.mean is not None and all(f is not None for f in found):
        average = replace(average, interval=estimate_mean([f[1] for f in found], level))
    return replace(row, cells=cells, average=average)


def _mark_rows(rows: list[FilledRow], samples: list[list], sampler: CellSampler, task: str,
               languages: Sequence[str]) -> bool:
    """Test every row against its family's UniBridge row in place; True when any test ran."""
    tested = False
    for i, row in enumerate(rows):
        reference = next((k for k, other in enumerate(rows) if other.method == REFERENCE
                          and other.backbone == row.backbone and k != i), None)
        if row.method == REFERENCE or reference is None:
            continue
        pairs = [(j, samples[reference][j], samples[i][j]) for j in range(len(languages))
                 if samples[reference][j] is not None and samples[i][j] is not None]
        if not pairs:
            continue
        tests = [sampler.paired_p(ref[0], own[0], task, languages[j]) for j, ref, own in pairs]
        adjusted = holm([p for _, p in tests])
        cells = list(row.cells)
        for (j, _, _), (difference, _), p in zip(pairs, tests, adjusted):
            mark = (BETTER if difference > 0 else WORSE) if p < sampler.config.alpha else None
            cells[j] = replace(cells[j], p_value=p, significance=mark)
        rows[i] = replace(row, cells=tuple(cells))
        tested = True
    return tested


def reproduced_line(rows: Sequence[FilledRow]) -> str | None:
    """"k of m paper cells inside our 95 % interval; mean Δ x" over the language cells."""
    judged = [cell for row in rows for cell in row.cells
              if cell.paper is not None and cell.interval is not None]
    if not judged:
        return None
    inside = sum(paper_inside(cell) for cell in judged)
    mean_delta = float(np.mean([cell.delta for cell in judged]))
    return (f"{inside} of {len(judged)} paper cells inside our 95 % interval; "
            f"mean Δ {mean_delta:+.2f}".replace("-", "−"))


def paper_inside(cell: Cell) -> bool | None:
    """Whether the paper's number lies in our interval (None when either is missing)."""
    if cell.paper is None or cell.interval is None:
        return None
    return cell.interval[0] <= cell.paper <= cell.interval[1]


def mean_interval(groups: Sequence[Sequence[ResultRecord]],
                  config: StatisticsConfig) -> tuple[float, float] | None:
    """Interval of the mean over several cells (one group of records each, e.g. Figure 3's languages)."""
    sampler = CellSampler(config)
    found = [sampler.estimate(group) for group in groups if group]
    if not found or any(f is None for f in found):
        return None
    return estimate_mean([f[1] for f in found], config.level)


def compare_tests(a: Sequence[ResultRecord], b: Sequence[ResultRecord], config: StatisticsConfig,
                  key: Callable[[ResultRecord], tuple]) -> dict[tuple, tuple[float, float]]:
    """``report --compare``: per cell of both runs, p (B against A) and p Holm-corrected over languages.

    ``key`` gives a record's cell (task, backbone, method, language); a cell is tested when both
    runs' records carry counts on the same test examples. The family of one correction is the
    languages of one (task, backbone, method).
    """
    sampler = CellSampler(config)
    cells_a, cells_b = _group(a, key), _group(b, key)
    raw: dict[tuple, float] = {}
    for cell in sorted(cells_a.keys() & cells_b.keys()):
        pair = [seed_counts(_one_per_seed(c[cell])) for c in (cells_a, cells_b)]
        if None not in pair and pair[0].digest == pair[1].digest:
            raw[cell] = sampler.paired_p(pair[1], pair[0], cell[0], cell[-1])[1]
    families: dict[tuple, list[tuple]] = defaultdict(list)
    for cell in raw:
        families[cell[:-1]].append(cell)
    tested = {}
    for members in families.values():
        for cell, p in zip(members, holm([raw[c] for c in members])):
            tested[cell] = (raw[cell], p)
    return tested


def _group(records: Sequence[ResultRecord], key: Callable[[ResultRecord], tuple]) -> dict[tuple, list]:
    grouped: dict[tuple, list[ResultRecord]] = defaultdict(list)
    for record in records:
        grouped[key(record)].append(record)
    return grouped
