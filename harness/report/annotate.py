"""The report's statistics: an interval on every cell, paired marks, verdicts against the paper.

Example::

    table = annotate(fill_without_statistics, run)   # called by harness.report.build.fill
    table.reproduced       # "9 consistent, 4 inconclusive, 1 differs of 14 paper cells (…); mean Δ −1.20"
    compare_tests(records_a, records_b, StatisticsConfig())   # report --compare's p-values

Per cell of a language table (the metric, not vocabulary sizes; not Table 5, whose spread is
over languages): the bootstrap interval of the mean over seeds (:mod:`.bootstrap`); an
average's interval is that of the mean of its languages (independent test sets, each drawn
with its own seed). Per language, every other row of the same backbone family is tested
against UniBridge's row (:mod:`.paired`, two-sided), the p-values of one row corrected over the
table's languages (:mod:`.multiple`); a cell is marked † where UniBridge is significantly
better than that row, ‡ where it is significantly worse. Per language cell with a paper number
and an interval: a verdict on Δ = ours − paper against ``±config.margin``
(:mod:`harness.statistics.verdict`), counted per table; none for a pipeline check
(``FilledTable.pipeline_check``), whose scores mean nothing. Cells whose records carry no
per-example counts (records older than evaluation version 5) get none of these and are not counted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from harness.run.records import ResultRecord
from harness.statistics.bootstrap import Estimate, cell_seed, estimate_cells, estimate_mean, resample_weights
from harness.statistics.config import StatisticsConfig
from harness.statistics.counts import Sample, seed_counts
from harness.statistics.multiple import holm
from harness.statistics.paired import randomisation_tests
from harness.statistics.verdict import VERDICTS, count_verdicts, verdict

if TYPE_CHECKING:
    from harness.report.filled import FilledRow, FilledTable

log = logging.getLogger(__name__)
REFERENCE = "unibridge"
BETTER, WORSE = "†", "‡"


def significance_footnote(config: StatisticsConfig) -> str:
    """The footnote naming the test and the correction."""
    return (f"{BETTER} / {WORSE}: UniBridge significantly better / worse than this row on this "
            f"language (approximate randomisation over test examples, {config.rounds} rounds, "
            f"two-sided; Holm–Bonferroni over the table's languages; α = {config.alpha:g}). "
            f"Intervals: {100 * config.level:g} % percentile bootstrap over test examples, "
            f"{config.samples} replicates, seed {config.seed}.")


class CellSampler:
    """Estimates and paired tests of cells, batched per test set (task, language, size).

    The cells of one test set share one set of bootstrap draws and one set of swaps, so each
    batch is one matrix product (:func:`~harness.statistics.bootstrap.estimate_cells`,
    :func:`~harness.statistics.paired.randomisation_tests`).
    """

    def __init__(self, config: StatisticsConfig):
        self.config = config

    def estimate_all(self, groups: Sequence[Sequence[ResultRecord]]) -> list[tuple[Sample, Estimate] | None]:
        """Per group of records (one cell): its sample and estimate; None without counts."""
        samples = [_sample(group) for group in groups]
        batches: dict[tuple[str, str, int], list[int]] = defaultdict(list)
        for i, (group, sample) in enumerate(zip(groups, samples)):
            if sample is not None:
                batches[(group[0].task, group[0].lang, sample.n)].append(i)
        found: list[tuple[Sample, Estimate] | None] = [None] * len(groups)
        for (task, lang, n), members in batches.items():
            weights = resample_weights(n, self.config.samples, cell_seed(self.config.seed, task, lang))
            estimates = estimate_cells([samples[i] for i in members], weights, self.config.level)
            for i, estimate in zip(members, estimates):
                found[i] = (samples[i], estimate)
        return found

    def paired(self, pairs: Sequence[tuple[Sample, Sample]], task: str,
               lang: str) -> list[tuple[float, float]]:
        """Per pair (a, b) of one test set: metric(a) − metric(b) and its two-sided p-value."""
        results = randomisation_tests(pairs, self.config.rounds,
                                      cell_seed(self.config.seed, task, lang, "paired"))
        return [(result.difference, result.p_value) for result in results]


def _sample(records: Sequence[ResultRecord]) -> Sample | None:
    """The cell's sample; None (with a warning naming the records) when its seeds disagree on the split."""
    if not records:
        return None
    try:
        return seed_counts(_one_per_seed(records))
    except ValueError as error:  # e.g. merged runs that read different revisions of the data
        log.warning("no interval: %s", error)
        return None


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
    width = len(spec.languages)
    found = sampler.estimate_all([by_cell.get((row.method, row.backbone, lang), [])
                                  for row in table.rows for lang in spec.languages])
    samples = [found[i * width:(i + 1) * width] for i in range(len(table.rows))]
    rows = [_with_intervals(row, cells, config.level) for row, cells in zip(table.rows, samples)]
    tested = _mark_rows(rows, [[f[0] if f else None for f in row] for row in samples], sampler,
                        spec.task, spec.languages)
    if not table.pipeline_check:
        rows = [with_verdicts(row, config.margin) for row in rows]
    return replace(table, rows=tuple(rows), reproduced=reproduced_line(rows, config),
                   significance_note=significance_footnote(config) if tested else None)


def with_verdicts(row: FilledRow, margin: float) -> FilledRow:
    """``row`` with a verdict on each language cell that has a paper number and an interval."""
    cells = tuple(cell if cell.paper is None or cell.interval is None
                  else replace(cell, verdict=verdict(cell.interval, cell.paper, margin))
                  for cell in row.cells)
    return replace(row, cells=cells)


def _with_intervals(row: FilledRow, found: list, level: float) -> FilledRow:
    cells = tuple(cell if f is None else replace(cell, interval=(f[1].low, f[1].high))
                  for cell, f in zip(row.cells, found))
    average = row.average
    if average is not None and average.mean is not None and all(f is not None for f in found):
        average = replace(average, interval=estimate_mean([f[1] for f in found], level))
    return replace(row, cells=cells, average=average)


def _references(rows: Sequence[FilledRow]) -> dict[int, int]:
    """Row index -> the index of its backbone's UniBridge row, for every other row that has one."""
    reference = {row.backbone: i for i, row in enumerate(rows) if row.method == REFERENCE}
    return {i: reference[row.backbone] for i, row in enumerate(rows)
            if row.method != REFERENCE and row.backbone in reference}


def _mark_rows(rows: list[FilledRow], samples: list[list[Sample | None]], sampler: CellSampler, task: str,
               languages: Sequence[str]) -> bool:
    """Test every row against its backbone's UniBridge row, in place; True when any test ran."""
    raw: dict[int, dict[int, tuple[float, float]]] = defaultdict(dict)  # row -> language -> (d, p)
    references = _references(rows)
    for j, lang in enumerate(languages):
        tested = [i for i, k in references.items() if samples[i][j] is not None and samples[k][j] is not None]
        if tested:
            results = sampler.paired([(samples[references[i]][j], samples[i][j]) for i in tested], task, lang)
            for i, result in zip(tested, results):
                raw[i][j] = result
    for i, by_language in raw.items():
        cells = list(rows[i].cells)
        for j, p in zip(by_language, holm([p for _, p in by_language.values()])):
            difference = by_language[j][0]
            mark = (BETTER if difference > 0 else WORSE) if p < sampler.config.alpha else None
            cells[j] = replace(cells[j], p_value=p, significance=mark)
        rows[i] = replace(rows[i], cells=tuple(cells))
    return bool(raw)


def reproduced_line(rows: Sequence[FilledRow], config: StatisticsConfig) -> str | None:
    """The verdicts of the language cells counted, the rule they follow and the mean Δ over them.

    ``"3 consistent, 2 inconclusive, 1 differs of 6 paper cells (95 % interval of Δ = ours − paper
    against ±1 point); mean Δ +7.76"``; None where no cell has a verdict (a pipeline check, or no
    interval).
    """
    judged = [cell for row in rows for cell in row.cells if cell.verdict is not None]
    if not judged:
        return None
    counts = count_verdicts(cell.verdict for cell in judged)
    mean_delta = float(np.mean([cell.delta for cell in judged]))
    counted = ", ".join(f"{counts[name]} {name}" for name in VERDICTS)
    unit = "point" if config.margin == 1 else "points"
    return (f"{counted} of {len(judged)} paper cells ({100 * config.level:g} % interval of "
            f"Δ = ours − paper against ±{config.margin:g} {unit}); "
            f"mean Δ {mean_delta:+.2f}".replace("-", "−"))


def mean_interval(groups: Sequence[Sequence[ResultRecord]],
                  config: StatisticsConfig) -> tuple[float, float] | None:
    """Interval of the mean over several cells (one group of records each, e.g. Figure 3's languages)."""
    found = CellSampler(config).estimate_all([group for group in groups if group])
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
    by_test_set: dict[tuple[str, str, int], list[tuple[tuple, Sample, Sample]]] = defaultdict(list)
    for cell in sorted(cells_a.keys() & cells_b.keys()):
        sample_a, sample_b = (_sample(c[cell]) for c in (cells_a, cells_b))
        if sample_a is not None and sample_b is not None and sample_a.digest == sample_b.digest:
            task, lang = cell[0], cell[-1]
            by_test_set[(task, lang, sample_a.n)].append((cell, sample_b, sample_a))
    raw: dict[tuple, float] = {}
    for (task, lang, _), members in by_test_set.items():
        results = sampler.paired([(b_, a_) for _, b_, a_ in members], task, lang)
        raw.update({cell: p for (cell, _, _), (_, p) in zip(members, results)})
    families: dict[tuple, list[tuple]] = defaultdict(list)
    for cell in sorted(raw):
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
