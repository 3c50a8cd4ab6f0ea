"""Fill a table declaration (:mod:`harness.report.specs`) from result records, beside the paper.

Example::

    run = RunData.load(workdir)                 # results.jsonl + run.json
    table = fill(table_spec(1), run)            # ours, paper's, Δ, marks, footnotes
    table.has_results                           # False: nothing of ours in it

Rules: a cell is the mean over seeds (± the sample standard deviation when there are several);
a cell without a record is missing, with a numbered footnote saying why (not run, filtered out,
failed); a row average needs every column, so it is never taken over missing cells; Table 5's
cells are mean ± sample std over the 14 WikiANN languages of one backbone, and need all 14.
Marks follow the paper, table by table (``TableSpec.marks``): per column and backbone family,
the best value in bold and the second best underlined (Tables 1–4, 12–13, 16–19, 23), or the best
alone (the two-row Tables 14–15 and 21–22); the Average column is ranked like a language (Table 23
underlines MAD-X (mGPT)'s 57.83). Values are compared as printed (two decimals); equal values
share a mark, and the second mark goes to the next lower value (dense ranking); a column with one
value is not marked.
Each table names the fidelity profile of its records (:meth:`RunData.profile`) and whether the
run was a pipeline check. Intervals, paired-test marks and the verdicts against the paper come
from :mod:`harness.report.annotate`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.report.filled import Cell, FilledRow, FilledTable, Mark, SettingRow
from harness.report.manifest import RunManifest, read_manifest
from harness.report.paper import HyperparameterRow, PaperRow, PaperTable, average_disagreements, paper_table
from harness.report.specs import ARCH_NAMES, Row, Setting, TableSpec
from harness.run.records import ResultRecord, load_records
from harness.statistics.config import DEFAULT_STATISTICS, StatisticsConfig

DECIMALS = 2


@dataclass(frozen=True)
class RunData:
    """The records of a run (and of runs merged into its report) with its manifest.

    ``thresholds[i]`` is the ALP threshold ε_s of UniBridge's vocabulary search in the run that
    wrote ``records[i]`` (from that run's manifest; None without one): Figure 3's x axis.
    ``statistics``: bootstrap replicates, randomisation rounds, seed and margin of the intervals,
    tests and verdicts. ``fidelities[i]``: the fidelity profile of the run that wrote
    ``records[i]`` (``paper`` where its run.json predates the key); left empty, every record has
    the manifest's. ``pipeline_check``: whether any run read is a pipeline check (its scores mean
    nothing); None: the manifest's flag.
    """

    records: tuple[ResultRecord, ...]
    manifest: RunManifest | None = None
    thresholds: tuple[float | None, ...] = ()
    statistics: StatisticsConfig = DEFAULT_STATISTICS
    fidelities: tuple[str, ...] = ()
    pipeline_check: bool | None = None

    @classmethod
    def load(cls, workdir: Path, merged: Sequence[Path] = (),
             statistics: StatisticsConfig = DEFAULT_STATISTICS) -> RunData:
        """Records of ``workdir`` (plus those of ``merged`` workdirs) and ``workdir``'s manifest."""
        records, thresholds, fidelities, checks = [], [], [], []
        for directory in (workdir, *merged):
            found = load_records(directory)  # results.jsonl rebuilt from results/ first
            manifest = read_manifest(directory)
            records += found
            thresholds += [alp_threshold(manifest)] * len(found)
            fidelities += [manifest.fidelity if manifest else "paper"] * len(found)
            checks.append(bool(manifest and manifest.pipeline_check))
        return cls(tuple(records), read_manifest(workdir), tuple(thresholds), statistics,
                   tuple(fidelities), any(checks))

    @property
    def is_pipeline_check(self) -> bool:
        """True when a run read is a pipeline check: then no verdict against the paper is given."""
        if self.pipeline_check is not None:
            return self.pipeline_check
        return bool(self.manifest and self.manifest.pipeline_check)

    def profile(self, task: str | None = None) -> str:
        """The fidelity profile of the records of ``task`` (all: None), ``a + b`` when runs differ.

        Without such records: the manifest's profile (``paper`` without a run.json).
        """
        found = {fidelity for record, fidelity in zip(self.records, self.fidelities)
                 if task is None or record.task == task}
        if not found:
            found = {self.manifest.fidelity if self.manifest else "paper"}
        return " + ".join(sorted(found))

    def backbone_for(self, arch: str) -> tuple[str | None, list[str]]:
        """The backbone whose records fill rows of ``arch`` (first by name) and the others of it."""
        names = {backbone_arch(r): set() for r in self.records}
        for record in self.records:
            names[backbone_arch(record)].add(record.backbone)
        if self.manifest:
            for name, family in self.manifest.backbones.items():
                names.setdefault(family, set()).add(name)
        found = sorted(names.get(arch, ()))
        return (found[0], found[1:]) if found else (None, [])


def alp_threshold(manifest: RunManifest | None) -> float | None:
    """ε_s of the run's ``unibridge`` method, or None."""
    vocab = manifest.hyperparameters.get("unibridge", {}).get("vocab", {}) if manifest else {}
    return vocab.get("threshold")


def backbone_arch(record: ResultRecord) -> str | None:
    """The backbone family of a record, from its backbone stage's facts."""
    return next((facts.get("arch") for facts in record.facts("backbone").values()), None)


def value_of(record: ResultRecord, value: str) -> float | None:
    """The job's metric, or the vocabulary size its Algorithm 1 search found (Table 20)."""
    if value == "metric":
        return record.value
    sizes = [facts["vocab_size"] for facts in record.facts("vocab_search").values() if "vocab_size" in facts]
    return float(sizes[0]) if sizes else None


def summarise(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


class _Footnotes:
    """Numbered reasons, each listed once."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def number(self, reason: str) -> int:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return self.reasons.index(reason) + 1


@dataclass
class _Filler:
    """Fills one declaration from ``run``, numbering the reasons of missing cells as it goes."""

    spec: TableSpec
    run: RunData
    notes: _Footnotes = field(default_factory=_Footnotes)
    remarks: list[str] = field(default_factory=list)

    def backbone(self, arch: str | None) -> str | None:
        if arch is None:
            return None
        name, others = self.run.backbone_for(arch)
        if others:
            remark = f"{ARCH_NAMES[arch]} rows show {name}; also in the records: {', '.join(others)}"
            if remark not in self.remarks:
                self.remarks.append(remark)
        return name

    def values(self, method: str, backbone: str | None, arch: str | None, lang: str) -> list[float]:
        """One value per seed; a vocabulary size is the same search for every backbone of a seed."""
        found = {(r.seed, r.backbone if self.spec.value == "metric" else None): value_of(r, self.spec.value)
                 for r in self.run.records
                 if r.method == method and r.task == self.spec.task and r.lang == lang
                 and (arch is None or r.backbone == backbone)}
        return [v for v in found.values() if v is not None]

    def missing(self, method: str, backbone: str | None, arch: str | None, lang: str) -> int:
        if self.run.manifest is None:
            return self.notes.number("no result record (the run wrote no run.json to say why)")
        if arch is not None and backbone is None:
            return self.notes.number(f"not run: suite {self.run.manifest.suite} has no "
                                     f"{ARCH_NAMES[arch]} backbone")
        return self.notes.number(self.run.manifest.why_missing(method, backbone, self.spec.task, lang))

    def cell(self, row: Row, backbone: str | None, lang: str, paper: float | None) -> Cell:
        values = self.values(row.method, backbone, row.arch, lang)
        if not values:
            return Cell(paper=paper, missing=self.missing(row.method, backbone, row.arch, lang))
        mean, std = summarise(values)
        return Cell(mean, std, len(values), paper)

    def language_row(self, row: Row, paper: PaperRow) -> FilledRow:
        backbone = self.backbone(row.arch)
        cells = tuple(self.cell(row, backbone, lang, paper.cells[j])
                      for j, lang in enumerate(self.spec.languages))
        average = self.average(cells, paper.average) if self.spec.aggregate == "average" else None
        return FilledRow(row.label, row.method, backbone, cells, average)

    def average(self, cells: Sequence[Cell], paper: float | None) -> Cell:
        if any(cell.mean is None for cell in cells):
            return Cell(paper=paper, missing=self.notes.number("no average: a language has no result"))
        return Cell(statistics.fmean(cell.mean for cell in cells), None, len(cells), paper)

    def summary_row(self, row: Row, paper: PaperRow) -> FilledRow:
        cells = []
        for j, arch in enumerate(self.spec.columns):
            backbone = self.backbone(arch)
            printed = paper.cells[j]
            per_lang = [self.values(row.method, backbone, arch, lang) for lang in self.spec.languages]
            have = [statistics.fmean(v) for v in per_lang if v]
            if len(have) < len(per_lang):
                note = f"mean ± std needs all {len(per_lang)} languages; {len(have)} have a result"
                cells.append(Cell(paper=printed.mean, paper_std=printed.std, missing=self.notes.number(note)))
            else:
                mean, std = summarise(have)
                cells.append(Cell(mean, std, len(have), printed.mean, printed.std))
        return FilledRow(row.label, row.method, None, tuple(cells))

    def setting_row(self, setting: Setting, paper: HyperparameterRow) -> SettingRow:
        manifest = self.run.manifest
        config = manifest.hyperparameters.get(setting.method) if manifest else None
        if config is None:
            suite = f"suite {manifest.suite}" if manifest else "this run (no run.json)"
            reason = f"not run: method {setting.method} is not in {suite}"
            return SettingRow(setting.label, setting.method, setting.path, None, paper.value,
                              self.notes.number(reason))
        value = _lookup(config, setting.path)
        if value is None:
            reason = f"not recorded: {setting.method}.{setting.path} is not in run.json"
            return SettingRow(setting.label, setting.method, setting.path, None, paper.value,
                              self.notes.number(reason))
        text = setting.template.format(value)
        cap = _lookup(config, setting.cap) if setting.cap else None
        if cap is not None:
            text += f" (capped at {cap} steps)"
        return SettingRow(setting.label, setting.method, setting.path, text, paper.value)


def _lookup(config: dict[str, Any], path: str) -> Any:
    """The value at dotted ``path``, or None when the recorded config lacks it."""
    for key in path.split("."):
        if not isinstance(config, dict) or key not in config:
            return None
        config = config[key]
    return config


def fill(spec: TableSpec, run: RunData) -> FilledTable:
    """Table ``spec`` from ``run``'s records, beside the paper's numbers."""
    paper = paper_table(spec.number)
    filler = _Filler(spec, run)
    about = {"profile": run.profile(spec.task), "pipeline_check": run.is_pipeline_check}
    if spec.is_hyperparameters:
        rows = tuple(filler.setting_row(s, paper.row(s.label)) for s in spec.rows)
        return FilledTable(spec, ("hyperparameter", "ours", "paper"), rows, tuple(filler.notes.reasons),
                           **about)
    if spec.aggregate == "mean_std":
        rows = tuple(filler.summary_row(r, paper.row(r.label)) for r in spec.rows)
        headers = tuple(ARCH_NAMES[a] for a in spec.columns)
    else:
        rows = mark(spec, tuple(filler.language_row(r, paper.row(r.label)) for r in spec.rows))
        headers = paper.columns + (("Average",) if spec.aggregate == "average" else ())
    notes = (*filler.remarks, *paper_notes(paper))
    table = FilledTable(spec, headers, rows, tuple(filler.notes.reasons), notes, **about)
    from harness.report.annotate import annotate  # numpy: only when a table is filled

    return annotate(table, run.records, run.statistics)


def paper_notes(paper: PaperTable) -> list[str]:
    """The paper's own footnotes (Table 14's dagger) and its averages that disagree with its cells."""
    notes = [f"paper, {row.label}, {column}: {note}" for row in paper.rows if isinstance(row, PaperRow)
             for column, note in row.notes.items()]
    return notes + [f"paper: {check}" for check in average_disagreements(paper)]


def mark(spec: TableSpec, rows: tuple[FilledRow, ...]) -> tuple[FilledRow, ...]:
    """Bold/underline per column, Average included, within each backbone family (module docstring)."""
    if spec.marks == "none" or spec.value != "metric":
        return rows
    kinds: tuple[Mark, ...] = ("best", "second") if spec.marks == "best_second" else ("best",)
    marked = [list(row.shown_cells) for row in rows]
    for family in {spec_row.arch for spec_row in spec.rows}:
        members = [i for i, spec_row in enumerate(spec.rows) if spec_row.arch == family]
        for j in range(len(marked[0])):
            for i, kind in column_marks([marked[i][j].mean for i in members]).items():
                if kind in kinds:
                    marked[members[i]][j] = replace(marked[members[i]][j], mark=kind)
    return tuple(FilledRow(row.label, row.method, row.backbone, tuple(cells[:len(row.cells)]),
                           cells[len(row.cells)] if row.average is not None else None)
                 for row, cells in zip(rows, marked))


def column_marks(values: Sequence[float | None]) -> dict[int, Mark]:
    """Index -> mark for one column: best (all equal to the maximum as printed) and second."""
    shown = {i: round(v, DECIMALS) for i, v in enumerate(values) if v is not None}
    if len(shown) < 2:
        return {}
    ranked = sorted(set(shown.values()), reverse=True)
    marks: dict[int, Mark] = {i: "best" for i, v in shown.items() if v == ranked[0]}
    if len(ranked) > 1:
        marks.update({i: "second" for i, v in shown.items() if v == ranked[1]})
    return marks

