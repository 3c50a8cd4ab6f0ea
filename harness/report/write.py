"""Write a run's whole report: the paper's tables, the per-task tables, figures and report.html.

Example::

    write_report(Path("runs/smoke"))                               # everything the results allow
    write_report(Path("runs/wikiann"), numbers=[1, 5, 20], formats=["md"])
    compare_runs(Path("runs/a"), Path("runs/b"))                   # a Table, B − A with p-values

``compare_runs`` and :data:`COMPARE_LEGEND` live in :mod:`harness.report.compare`, named here too.

Output under the workdir: ``tables/tableNN.{md,tex,csv}`` (the paper's tables),
``tables/results-<task>.*`` (every language and method of the run), the tables of
plugins (:mod:`harness.report.plugin_tables`), ``figures/*.png|pdf`` and ``report.html``.
Without ``numbers``, a paper table is written when at least one of its cells is ours (Tables
6–11: when the run recorded its hyperparameters); tables asked for by number are written even
when empty. Nothing is run: only result records and ``run.json`` are read.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from harness.core.workdir import atomic_write_text
from harness.report.build import FilledTable, RunData, fill
from harness.report.compare import COMPARE_LEGEND, compare_runs
from harness.report.figures import write_figures
from harness.report.page import provenance, write_page
from harness.report.plugin_tables import plugin_tables
from harness.report.render import FORMATS, render
from harness.report.specs import TABLE_SPECS, table_spec
from harness.report.tables import result_tables, write_result_tables, write_table
from harness.report.unchanged import kept_report, remember_report, report_inputs
from harness.statistics.config import DEFAULT_STATISTICS, StatisticsConfig

__all__ = ["COMPARE_LEGEND", "compare_runs", "paper_tables", "write_report", "written_summary"]

log = logging.getLogger(__name__)
TABLES_DIR, FIGURES_DIR, PAGE_FILE = "tables", "figures", "report.html"
PAPER_STEM = re.compile(r"table\d+")  # the paper's tables' file stems (TableSpec.name)


def paper_tables(run: RunData, numbers: Sequence[int] | None = None) -> list[FilledTable]:
    """The tables asked for, or every table with at least one value of ours."""
    if numbers:
        return [fill(table_spec(n), run) for n in numbers]
    return [table for table in (fill(spec, run) for spec in TABLE_SPECS) if table.has_results]


def write_report(workdir: Path, numbers: Sequence[int] | None = None, formats: Sequence[str] = FORMATS,
                 merged: Sequence[Path] = (), statistics: StatisticsConfig = DEFAULT_STATISTICS,
                 keep_unchanged: bool = False) -> list[Path]:
    """Render the report of ``workdir`` in ``formats``; returns the files written.

    ``keep_unchanged`` (``run`` asks for it): when the files last written are intact and were
    rendered from the very inputs of now (:mod:`harness.report.unchanged`), nothing is
    rendered and those files are returned.
    """
    workdir = Path(workdir)
    run = RunData.load(workdir, merged, statistics)
    facts = provenance(run)  # the page's header, and (without its times) an input of the report
    inputs = report_inputs(run, numbers, formats, merged, facts)
    kept = kept_report(workdir, inputs) if keep_unchanged else None
    if kept is not None:
        log.info("report of %s: its inputs are unchanged; kept its %d files", workdir, len(kept))
        return kept
    written = _render_report(workdir, run, numbers, formats, facts)
    remember_report(workdir, inputs, written)
    return written


def _render_report(workdir: Path, run: RunData, numbers: Sequence[int] | None,
                   formats: Sequence[str], facts: dict[str, str]) -> list[Path]:
    """Every table, figure and the page of :func:`write_report`; returns the files written."""
    tables = paper_tables(run, numbers)
    written = [_write(render(table, fmt), workdir / TABLES_DIR / f"{table.spec.name}.{fmt}")
               for table in tables for fmt in formats if fmt != "html"]
    own = plugin_tables(run.records)  # the tables of plugins (harness.report.plugin_tables)
    if not numbers:
        text_formats = [fmt for fmt in formats if fmt != "html"]
        written += write_result_tables(list(run.records), workdir / TABLES_DIR, text_formats)
        written += [path for table in own for path in write_table(table, workdir / TABLES_DIR, text_formats)]
    if "html" in formats:
        figures = write_figures(run, workdir / FIGURES_DIR, tables)
        page = write_page(workdir / PAGE_FILE, tables, result_tables(run.records), figures, facts, own,
                          run.is_pipeline_check)
        written += [*figures, page]
    log.info("report of %s: %d tables, %d files", workdir, len(tables), len(written))
    return written


def written_summary(workdir: Path, written: Sequence[Path]) -> list[str]:
    """What :func:`write_report` wrote, in a few lines: tables per format, figures, the page."""
    workdir = Path(workdir)
    lines = []
    tables = [path for path in written if path.parent.name == TABLES_DIR]
    if tables:
        stems = sorted({path.stem for path in tables})
        paper = [stem for stem in stems if PAPER_STEM.fullmatch(stem)]
        tasks = [stem.removeprefix("results-") for stem in stems if stem.startswith("results-")]
        others = [stem for stem in stems if stem not in paper and not stem.startswith("results-")]
        formats = Counter(path.suffix.lstrip(".") for path in tables)
        kinds = [f"{len(paper)} of the paper's ({', '.join(_numbers(paper))})"] if paper else []
        kinds += [f"{len(tasks)} per task ({', '.join(tasks)})"] if tasks else []
        kinds += [f"{len(others)} of plugins ({', '.join(others)})"] if others else []
        counts = ", ".join(f"{n} {fmt}" for fmt, n in formats.items())
        lines.append(f"Tables in {workdir / TABLES_DIR}: {' and '.join(kinds)}; {counts} files")
    figures = [path for path in written if path.parent.name == FIGURES_DIR]
    if figures:
        stems = list(dict.fromkeys(path.stem for path in figures))
        suffixes = "/".join(dict.fromkeys(path.suffix.lstrip(".") for path in figures))
        lines.append(f"Figures in {workdir / FIGURES_DIR}: {', '.join(stems)} ({suffixes})")
    if workdir / PAGE_FILE in written:
        lines.append(f"Page (open it first): {workdir / PAGE_FILE}")
    return lines or ["Nothing written: no result allows a table or figure."]


def _numbers(stems: Sequence[str]) -> list[str]:
    """``table01``, ``table02``, ``table05`` -> ``1–2``, ``5``: the paper's table numbers as runs."""
    numbers = sorted(int(stem.removeprefix("table")) for stem in stems)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return [f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]


def _write(text: str, path: Path) -> Path:
    atomic_write_text(path, text)
    return path
