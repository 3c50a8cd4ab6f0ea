"""Tables are small pure functions over result records; renderers write Markdown, LaTeX, CSV.

Example::

    table = results_table(read_results(workdir / "results.jsonl"), task="ner")
    write_table(table, workdir / "tables")        # results-ner.md / .tex / .csv

A missing cell stays missing and is never averaged over: a row's average is printed only when
every language of the row has a result. The paper's Tables 1–23 plug in here as further
declarations in :mod:`harness.report.specs` (rendered by :mod:`harness.report.write`).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from harness.core.workdir import atomic_write_text
from harness.run.records import ResultRecord


@dataclass(frozen=True)
class Table:
    """A rendered-agnostic table: a name, column headers and rows of cells (None = missing)."""

    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


def results_table(records: Sequence[ResultRecord], task: str) -> Table:
    """Mean over seeds per (backbone, method) × language for one task, with a row average."""
    cells: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    langs: list[str] = []
    for record in records:
        if record.task != task:
            continue
        cells[(record.backbone, record.method)][record.lang].append(record.value)
        if record.lang not in langs:
            langs.append(record.lang)
    rows = []
    for (backbone, method), by_lang in sorted(cells.items()):
        values = [round(statistics.mean(by_lang[lang]), 2) if lang in by_lang else None for lang in langs]
        average = round(statistics.mean(values), 2) if None not in values else None
        rows.append((backbone, method, *values, average))
    return Table(f"results-{task}", ("backbone", "method", *langs, "avg"), tuple(rows))


def render(table: Table, fmt: str) -> str:
    """The table as ``md``, ``tex``, ``csv`` or ``html`` text; missing cells are empty (CSV) or '–'."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.headers)
        writer.writerows([["" if cell is None else cell for cell in row] for row in table.rows])
        return buffer.getvalue()
    tablefmt = {"md": "github", "tex": "latex_booktabs", "html": "html"}[fmt]
    return tabulate(table.rows, headers=table.headers, tablefmt=tablefmt, missingval="–") + "\n"


def write_table(table: Table, directory: Path, formats: Sequence[str] = ("md", "tex", "csv")) -> list[Path]:
    """Write one file per format into ``directory``."""
    paths = []
    for fmt in formats:
        path = Path(directory) / f"{table.name}.{fmt}"
        atomic_write_text(path, render(table, fmt))
        paths.append(path)
    return paths


def result_tables(records: Sequence[ResultRecord]) -> list[Table]:
    """One results table per task present in ``records``."""
    return [results_table(records, task) for task in sorted({record.task for record in records})]


def write_result_tables(records: Sequence[ResultRecord], directory: Path,
                        formats: Sequence[str] = ("md", "tex", "csv")) -> list[Path]:
    """Write :func:`result_tables` in ``formats``."""
    return [path for table in result_tables(records) for path in write_table(table, directory, formats)]
