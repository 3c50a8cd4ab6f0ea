"""``report --compare A B``: two runs side by side, per cell and per paper table, with paired tests.

Example::

    comparison = compare(Path("runs/wikiann"), Path("runs/wikiann-authors"))
    comparison.sides        # ["A: runs/wikiann — suite wikiann, fidelity profile paper (…)", "B: …"]
    comparison.tables       # per paper table and row: cells in both, mean A, mean B, mean B − A, …
    comparison.cells        # every (task, backbone, method, language): A, B, B − A, p, p (Holm)

The paired test of a cell is approximate randomisation of B against A on the same test
examples (:func:`harness.report.annotate.compare_tests`), Holm-corrected over the languages of
each task, backbone and method: one row of a paper table. The per-table rows average Δ over the
languages both runs have, and count the cells where B is significantly better or worse. Each
side names its fidelity profile, so a ``paper`` run against its ``authors`` counterpart reads
as what the two readings of the paper change; a pipeline check is named as one.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.report.build import RunData
from harness.report.render import PROFILES
from harness.report.specs import TABLE_SPECS, TableSpec
from harness.report.tables import Table
from harness.run.records import ResultRecord
from harness.statistics.config import DEFAULT_STATISTICS, StatisticsConfig

COMPARE_LEGEND = ("p: approximate randomisation of B against A over the same test examples ({rounds} "
                  "rounds, two-sided); p (Holm): Holm–Bonferroni over the languages of each task, "
                  "backbone and method; blank: a run's records carry no per-example counts, or the "
                  "two were scored on different test examples. Per table: the mean of B − A over the "
                  "languages both runs have; B better / worse: cells with p (Holm) < α = {alpha:g}.")
Key = tuple[str, str, str, str]


@dataclass(frozen=True)
class Comparison:
    """What ``report --compare`` prints: each side's line, the per-table Δ, every cell."""

    sides: tuple[str, str]
    tables: Table
    cells: Table


def compare(workdir_a: Path, workdir_b: Path,
            statistics: StatisticsConfig = DEFAULT_STATISTICS) -> Comparison:
    """The comparison of run B against run A (module docstring)."""
    from harness.report.annotate import compare_tests

    runs = (RunData.load(Path(workdir_a)), RunData.load(Path(workdir_b)))
    tested = compare_tests(runs[0].records, runs[1].records, statistics, cell_key)
    labels = distinct_labels(Path(workdir_a), Path(workdir_b))
    sides = tuple(f"{side}: {label} — {side_line(run)}" for side, label, run in zip("AB", labels, runs))
    return Comparison(sides, table_deltas(runs, tested, statistics.alpha), cell_table(runs, tested, labels))


def compare_runs(workdir_a: Path, workdir_b: Path,
                 statistics: StatisticsConfig = DEFAULT_STATISTICS) -> Table:
    """Every (task, backbone, method, language) of either run: A's and B's mean over seeds, B − A.

    A job in one run only shows as missing (None) in the other, with no difference. Where both
    runs' records carry per-example counts on the same test examples, ``p`` and ``p (Holm)``
    test B against A (:data:`COMPARE_LEGEND`).
    """
    return compare(workdir_a, workdir_b, statistics).cells


def side_line(run: RunData) -> str:
    """``suite wikiann, fidelity profile paper (the paper's text)``, and a pipeline check's warning."""
    suite = run.manifest.suite if run.manifest else "unknown (no run.json)"
    profile = run.profile()
    meaning = f" ({PROFILES[profile]})" if profile in PROFILES else ""
    line = f"suite {suite}, fidelity profile {profile}{meaning}"
    return line + ("; a pipeline check: its scores mean nothing" if run.is_pipeline_check else "")


def cell_key(record: ResultRecord) -> Key:
    """A record's cell: (task, backbone, method, language)."""
    return (record.task, record.backbone, record.method, record.lang)


def means(records: Sequence[ResultRecord]) -> dict[Key, float]:
    """Each cell's mean over seeds."""
    values: dict[Key, list[float]] = defaultdict(list)
    for r in records:
        values[cell_key(r)].append(r.value)
    return {key: statistics.fmean(v) for key, v in values.items()}


def cell_table(runs: tuple[RunData, RunData], tested: dict[tuple, tuple[float, float]],
               labels: tuple[str, str]) -> Table:
    """Every cell of either run: A, B, B − A, p and p (Holm) (:func:`compare_runs`)."""
    a, b = (means(run.records) for run in runs)
    rows = []
    for key in sorted(a.keys() | b.keys()):
        va, vb = a.get(key), b.get(key)
        delta = round(vb - va, 2) if va is not None and vb is not None else None
        p, p_holm = tested.get(key, (None, None))
        rows.append((*key, _round(va), _round(vb), delta, _p(p), _p(p_holm)))
    headers = ("task", "backbone", "method", "lang", f"A: {labels[0]}", f"B: {labels[1]}", "B − A", "p",
               "p (Holm)")
    return Table("compare", headers, tuple(rows))


def _compared_specs() -> list[TableSpec]:
    """The paper's tables of per-language scores (not settings, vocabulary sizes or Table 5)."""
    return [spec for spec in TABLE_SPECS if not spec.is_hyperparameters and spec.value == "metric"
            and spec.aggregate != "mean_std"]


def table_deltas(runs: tuple[RunData, RunData], tested: dict[tuple, tuple[float, float]],
                 alpha: float) -> Table:
    """Per paper table and row with a cell in both runs: how many, the means, mean B − A, the tests."""
    a, b = (means(run.records) for run in runs)
    rows = []
    for spec in _compared_specs():
        for row in spec.rows:
            backbones = [run.backbone_for(row.arch)[0] if row.arch else None for run in runs]
            if None in backbones:
                continue
            keys = [tuple((spec.task, backbone, row.method, lang) for backbone in backbones)
                    for lang in spec.languages]  # (A's cell, B's cell) per language
            both = [(ka, kb) for ka, kb in keys if ka in a and kb in b]
            if both:
                rows.append((f"Table {spec.number}", row.label, *_row_delta(both, a, b, tested, alpha)))
    headers = ("table", "row", "cells", "mean A", "mean B", "mean B − A", "tested", "B better", "B worse")
    return Table("compare-tables", headers, tuple(rows))


def _row_delta(both: list[tuple[Key, Key]], a: dict[Key, float], b: dict[Key, float],
               tested: dict[tuple, tuple[float, float]], alpha: float) -> tuple:
    """One row's cells in both runs: count, mean A, mean B, mean B − A, tested, B better, B worse.

    A cell is tested when both runs have it under the same backbone name and the same examples.
    """
    tests = [(b[kb] - a[ka], tested[ka][1]) for ka, kb in both if ka == kb and ka in tested]
    better = sum(d > 0 and p < alpha for d, p in tests)
    worse = sum(d < 0 and p < alpha for d, p in tests)
    return (len(both), _round(statistics.fmean(a[ka] for ka, _ in both)),
            _round(statistics.fmean(b[kb] for _, kb in both)),
            _round(statistics.fmean(b[kb] - a[ka] for ka, kb in both)), len(tests), better, worse)


def _p(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def distinct_labels(a: Path, b: Path) -> tuple[str, str]:
    """The shortest trailing parts of the two paths that tell them apart (``runs/x`` vs ``old/x``)."""
    parts_a, parts_b = a.resolve().parts, b.resolve().parts
    for n in range(1, max(len(parts_a), len(parts_b)) + 1):
        label_a, label_b = "/".join(parts_a[-n:]), "/".join(parts_b[-n:])
        if label_a != label_b:
            return label_a, label_b
    return str(a), str(b)  # the same folder twice


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
