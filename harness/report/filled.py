"""What a filled table is: cells (ours beside the paper's), rows and the table, as plain data.

Example::

    cell = Cell(mean=48.1, paper=49.6, interval=(46.0, 50.2), verdict="inconclusive")
    cell.delta, cell.delta_interval         # -1.5, (-3.6, 0.6)

:mod:`harness.report.build` fills them from result records, :mod:`harness.report.annotate` adds
the statistics (intervals, paired marks, verdicts against the paper) and
:mod:`harness.report.render` prints them; this module imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.report.specs import TableSpec

Mark = Literal["best", "second"]


@dataclass(frozen=True)
class Cell:
    """Ours (mean, std over seeds or languages, how many values) beside the paper's."""

    mean: float | None = None
    std: float | None = None
    n: int = 0
    paper: float | None = None
    paper_std: float | None = None
    missing: int | None = None
    mark: Mark | None = None
    # statistics (harness.report.annotate): the 95 % bootstrap interval of ``mean``; for a row
    # tested against UniBridge, the Holm-adjusted p-value and † / ‡ when significant; the verdict
    # against the paper (harness.statistics.verdict), None where there is none
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    significance: str | None = None
    verdict: str | None = None

    @property
    def delta(self) -> float | None:
        """Ours − paper's, when both exist."""
        return None if self.mean is None or self.paper is None else self.mean - self.paper

    @property
    def delta_interval(self) -> tuple[float, float] | None:
        """The interval of Δ: ours shifted by the paper's number (None when either is missing)."""
        if self.paper is None or self.interval is None:
            return None
        return self.interval[0] - self.paper, self.interval[1] - self.paper


@dataclass(frozen=True)
class FilledRow:
    """One declared row; ``average`` is None when the table has no aggregate column."""

    label: str
    method: str
    backbone: str | None
    cells: tuple[Cell, ...]
    average: Cell | None = None

    @property
    def shown_cells(self) -> tuple[Cell, ...]:
        """The row's columns as printed: each language, then the average when the table has one."""
        return self.cells + ((self.average,) if self.average is not None else ())


@dataclass(frozen=True)
class SettingRow:
    """One row of Tables 6–11: our effective value and the paper's, as text."""

    label: str
    method: str
    path: str
    ours: str | None
    paper: str
    missing: int | None = None


@dataclass(frozen=True)
class FilledTable:
    """A declared table with our values, the paper's, footnotes and notes."""

    spec: TableSpec
    headers: tuple[str, ...]
    rows: tuple[FilledRow, ...] | tuple[SettingRow, ...]
    footnotes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # statistics (harness.report.annotate): the verdicts counted ("3 consistent, … of 6 paper
    # cells …") and the footnote naming the paired test, when one ran
    reproduced: str | None = None
    significance_note: str | None = None
    # the fidelity profile of the table's records ("paper", "authors", "authors + paper" for
    # merged runs of both) and whether the run was a pipeline check (no verdicts then)
    profile: str = "paper"
    pipeline_check: bool = False

    @property
    def has_results(self) -> bool:
        """True when at least one cell is ours."""
        if self.spec.is_hyperparameters:
            return any(row.ours is not None for row in self.rows)
        return any(cell.mean is not None for row in self.rows for cell in row.cells)
