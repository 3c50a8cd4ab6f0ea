"""The paper's published numbers, loaded from ``reports/paper/tableNN.yaml``.

Example::

    table = paper_table(1)                  # Table 1, XLM-R on WikiANN
    table.row("UniBridge (XLM-R)").cells    # (49.6, 43.24, …)
    average_disagreements(table)            # rows whose printed average is not their cells' mean

The files are transcriptions of the paper's text (``reports/paper/README.md``), shipped in the
wheel as :data:`harness.core.resources.PAPER` and read from there (or from the checkout);
``tests/test_paper_numbers.py`` checks every cell against an independent parse of that text.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.abc import Traversable

import yaml

from harness.core.config import StrictConfig
from harness.core.resources import PAPER, package_files

#: The unit of the last digit the paper prints, in cells and averages alike: two decimals, with
#: trailing zeros dropped (49.6 and 40 are 49.60 and 40.00; Table 1 prints 45.95 beside 40.15).
PRINTED_UNIT = 0.01


class MeanStd(StrictConfig):
    """A Table 5 cell: mean ± standard deviation over the 14 WikiANN languages."""

    mean: float
    std: float


class PaperRow(StrictConfig):
    """One printed row: its label, cells in column order, and what the paper marks."""

    label: str
    cells: tuple[float | MeanStd, ...]
    average: float | None = None
    underlined: tuple[str, ...] = ()
    notes: dict[str, str] = {}


class HyperparameterRow(StrictConfig):
    """One row of Tables 6–11: a hyperparameter's name and printed value."""

    hyperparameter: str
    value: str


class PaperTable(StrictConfig):
    """One of the paper's tables as printed."""

    table: int
    caption: str
    transcription: str = ""
    columns: tuple[str, ...] = ()
    rows: tuple[PaperRow, ...] | tuple[HyperparameterRow, ...]

    def row(self, label: str) -> PaperRow | HyperparameterRow:
        """The row printed as ``label``.

        Raises:
            KeyError: naming the table and its labels.
        """
        for row in self.rows:
            if getattr(row, "label", getattr(row, "hyperparameter", None)) == label:
                return row
        labels = [getattr(r, "label", getattr(r, "hyperparameter", "")) for r in self.rows]
        raise KeyError(f"Table {self.table} has no row {label!r}; rows: {labels}")


def paper_dir() -> Traversable:
    """Where the transcriptions live: ``reports/paper`` at the top of the repository, in the wheel too."""
    return package_files(PAPER)


@cache
def paper_table(number: int) -> PaperTable:
    """Table ``number`` of the paper, validated."""
    path = paper_dir() / f"table{number:02d}.yaml"
    return PaperTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class AverageCheck:
    """A row whose printed average differs from the mean of its printed cells."""

    table: int
    label: str
    printed: float
    mean: float

    def __str__(self) -> str:
        return (f"Table {self.table}, {self.label}: printed average {self.printed}, "
                f"mean of its cells {self.mean:.3f} (off by {self.printed - self.mean:+.3f})")


def rounding_bound(cell_units: Sequence[float], average_unit: float) -> float:
    """How far a correctly computed, printed average can be from the mean of the printed cells.

    Each printed cell c_i is its true value x_i rounded: c_i = x_i + e_i with |e_i| <= u_i / 2
    (half a unit of its last printed digit). The mean of the printed cells is then the true mean
    plus the mean of the e_i, at most sum(u_i / 2) / n away; the printed average a rounds the true
    mean, at most average_unit / 2 away. So |a - mean(c)| <= sum(u_i / 2) / n + average_unit / 2:
    0.005 + 0.005 = 0.01 for the paper's two-decimal cells and averages, whatever n.
    """
    return sum(unit / 2 for unit in cell_units) / len(cell_units) + average_unit / 2


def average_disagreements(table: PaperTable) -> list[AverageCheck]:
    """Rows whose printed average is further from their cells' mean than rounding explains."""
    found = []
    for row in table.rows:
        if isinstance(row, PaperRow) and row.average is not None:
            mean = statistics.fmean(row.cells)
            bound = rounding_bound([PRINTED_UNIT] * len(row.cells), PRINTED_UNIT)
            if abs(row.average - mean) > bound + 1e-9:
                found.append(AverageCheck(table.table, row.label, row.average, mean))
    return found
