"""Render a filled table as Markdown, LaTeX (booktabs), CSV or an HTML fragment.

Example::

    text = render(fill(table_spec(1), run), "md")

Markdown, LaTeX and HTML share one layout (:func:`grid`): each declared row is followed by the
paper's row and the per-cell difference Δ = ours − paper; best values are bold and second best
underlined; a missing value is "–" with a footnote number, its reason listed under the table.
CSV is long and plain (one line per cell, numbers unformatted) for further analysis.

Statistics (:mod:`harness.report.annotate`), where the records allow them: a "95 % CI" line
under Δ, a "verdict" line under it (consistent / inconclusive / differs against the margin),
† / ‡ after a value that differs significantly from UniBridge's, and under the table the
verdicts counted ("Reproduced? …") and the test's footnote; CSV has them as columns. Every table
names its fidelity profile under it (CSV: a column); a pipeline check's says that its scores
mean nothing, in place of verdicts.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass

from harness.report.filled import Cell, FilledRow, FilledTable

FORMATS = ("md", "tex", "csv", "html")
MISSING = "–"
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "β": r"$\beta$", "δ": r"$\delta$", "ϵ": r"$\epsilon$", "±": r"$\pm$", "Δ": r"$\Delta$",
        "–": "--", "−": "--", "†": r"\textdagger{}", "‡": r"\textdaggerdbl{}", "α": r"$\alpha$"}
CI_LABEL = "95 % CI"
VERDICT_LABEL = "verdict"
#: What each fidelity profile reads (suite key ``fidelity``, docs/fidelity.md).
PROFILES = {"paper": "the paper's text", "authors": "the authors' code (UniBridge@6a38462)"}
PIPELINE_CHECK_NOTE = ("Pipeline check: this suite trains tiny random models for a few steps to check "
                       "that the pipeline runs; its scores mean nothing, so no verdict against the "
                       "paper is given.")


@dataclass(frozen=True)
class Shown:
    """One displayed cell: text, mark and footnote number."""

    text: str
    mark: str | None = None
    footnote: int | None = None


def _number(value: float, integer: bool) -> str:
    return f"{value:.0f}" if integer else f"{value:.2f}"


def _ours(cell: Cell, integer: bool) -> Shown:
    if cell.mean is None:
        return Shown(MISSING, footnote=cell.missing)
    text = _number(cell.mean, integer)
    if cell.std is not None:
        text += f" ± {_number(cell.std, integer)}"
    return Shown(text + (cell.significance or ""), cell.mark)


def _paper(cell: Cell, integer: bool) -> Shown:
    if cell.paper is None:
        return Shown("")
    text = _number(cell.paper, integer)
    return Shown(text + (f" ± {cell.paper_std:.2f}" if cell.paper_std is not None else ""))


def _delta(cell: Cell, integer: bool) -> Shown:
    return Shown("" if cell.delta is None else ("{:+.0f}" if integer else "{:+.2f}").format(cell.delta))


def _interval(cell: Cell) -> Shown:
    return Shown("" if cell.interval is None else "[{:.2f}, {:.2f}]".format(*cell.interval))


def _verdict(cell: Cell) -> Shown:
    return Shown(cell.verdict or "")


def _has_intervals(table: FilledTable) -> bool:
    return not table.spec.is_hyperparameters and any(
        cell.interval is not None for row in table.rows for cell in _row_cells(row))


def _has_verdicts(table: FilledTable) -> bool:
    return not table.spec.is_hyperparameters and any(
        cell.verdict is not None for row in table.rows for cell in _row_cells(row))


def profile_line(table: FilledTable) -> str:
    """``Fidelity profile: paper (the paper's text)``: what the table's runs read of the paper."""
    profiles = table.profile.split(" + ")
    meaning = PROFILES.get(table.profile, "merged runs of several profiles" if len(profiles) > 1 else "")
    return f"Fidelity profile: {table.profile}" + (f" ({meaning})" if meaning else "")


def _statistics_lines(table: FilledTable) -> list[str]:
    """The profile, the pipeline check's warning or the verdicts, the paired test's footnote."""
    lines = [profile_line(table)] + ([PIPELINE_CHECK_NOTE] if table.pipeline_check else [])
    lines += [f"Reproduced? {table.reproduced}"] if table.reproduced else []
    return lines + ([table.significance_note] if table.significance_note else [])


def _row_cells(row: FilledRow) -> tuple[Cell, ...]:
    return row.cells + ((row.average,) if row.average is not None else ())


def grid(table: FilledTable) -> tuple[tuple[str, ...], list[tuple[str, list[Shown]]]]:
    """Headers and (label, cells) lines: ours, then the paper's and Δ under each declared row."""
    if table.spec.is_hyperparameters:
        return table.headers, [(row.label, [Shown(MISSING, footnote=row.missing) if row.ours is None
                                            else Shown(row.ours), Shown(row.paper)]) for row in table.rows]
    integer = table.spec.value == "vocab_size"
    lines = []
    for row in table.rows:
        cells = row.shown_cells
        lines.append((row.label, [_ours(c, integer) for c in cells]))
        lines.append(("  paper", [_paper(c, integer) for c in cells]))
        lines.append(("  Δ", [_delta(c, integer) for c in cells]))
        if _has_intervals(table):
            lines.append((f"  {CI_LABEL}", [_interval(c) for c in cells]))
        if _has_verdicts(table):
            lines.append((f"  {VERDICT_LABEL}", [_verdict(c) for c in cells]))
    return ("", *table.headers), lines


@dataclass(frozen=True)
class Style:
    """How a format writes bold, underline and a footnote number around an escaped cell text."""

    escape: Callable[[str], str]
    best: str
    second: str
    footnote: Callable[[int], str]

    def cell(self, shown: Shown) -> str:
        """The cell's text, marked and footnoted."""
        text = self.escape(shown.text)
        if shown.mark:
            text = (self.best if shown.mark == "best" else self.second).format(text)
        return text + (self.footnote(shown.footnote) if shown.footnote else "")


def title(table: FilledTable) -> str:
    """``Table N: title``."""
    return f"Table {table.spec.number}: {table.spec.title}"


def _superscript(number: int) -> str:
    return str(number).translate(_SUPERSCRIPTS)


MARKDOWN = Style(str, "**{}**", "<u>{}</u>", _superscript)


def _markdown(table: FilledTable) -> str:
    headers, lines = grid(table)
    out = [f"### {title(table)}", "", "| " + " | ".join(headers) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
    under = ("paper", "Δ", CI_LABEL, VERDICT_LABEL)  # the lines under a row, written unindented
    out += ["| " + " | ".join([label.strip() if label.strip() in under else label,
                               *map(MARKDOWN.cell, cells)]) + " |" for label, cells in lines]
    out += [""] + [f"{_superscript(n)} {reason}" for n, reason in _notes(table)]
    out += [f"Note: {note}" for note in table.notes] + _statistics_lines(table)
    return "\n".join(out).rstrip() + "\n"


def tex_escape(text: str) -> str:
    """``text`` safe inside a LaTeX tabular (pdflatex: Greek letters and ± as math)."""
    return "".join(_TEX.get(ch, ch) for ch in text)


LATEX = Style(tex_escape, r"\textbf{{{}}}", r"\underline{{{}}}", lambda n: rf"\textsuperscript{{{n}}}")


def _latex(table: FilledTable) -> str:
    headers, lines = grid(table)
    out = [r"\begin{table}[ht]", r"\centering", r"\scriptsize", r"\setlength{\tabcolsep}{2pt}",
           rf"\caption{{{tex_escape(title(table))}}}",
           r"\begin{tabular}{l" + "r" * (len(headers) - 1) + "}", r"\toprule",
           " & ".join(map(tex_escape, headers)) + r" \\", r"\midrule"]
    group = len(lines) // max(len(table.rows), 1)  # lines per declared row
    for i, (label, cells) in enumerate(lines):
        label_tex = rf"\quad {tex_escape(label.strip())}" if label.startswith("  ") else tex_escape(label)
        out.append(" & ".join([label_tex, *map(LATEX.cell, cells)]) + r" \\")
        if not table.spec.is_hyperparameters and i % group == group - 1 and i + 1 < len(lines):
            out.append(r"\midrule")
    out += [r"\bottomrule", r"\end{tabular}"]
    notes = [rf"\textsuperscript{{{n}}} {tex_escape(reason)}" for n, reason in _notes(table)]
    notes += [tex_escape(f"Note: {note}") for note in table.notes]
    notes += [tex_escape(line) for line in _statistics_lines(table)]
    if notes:
        out += [r"\par\smallskip", r"\begin{minipage}{\linewidth}\raggedright",
                r" \\ ".join(notes), r"\end{minipage}"]
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


HTML = Style(html.escape, "<b>{}</b>", "<u>{}</u>", lambda n: f"<sup>{n}</sup>")


def _html(table: FilledTable) -> str:
    headers, lines = grid(table)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    out = [f'<table class="results" id="{table.spec.name}">',
           f"<caption>{html.escape(title(table))}</caption>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for label, cells in lines:
        kind = {"paper": "paper", "Δ": "delta", CI_LABEL: "interval",
                VERDICT_LABEL: "verdict"}.get(label.strip(), "ours")
        out.append(f'<tr class="{kind}"><th>{html.escape(label.strip())}</th>'
                   + "".join(f"<td>{HTML.cell(c)}</td>" for c in cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    notes = [f"<sup>{n}</sup> {html.escape(reason)}" for n, reason in _notes(table)]
    notes += [html.escape(f"Note: {note}") for note in table.notes]
    notes += [html.escape(line) for line in _statistics_lines(table)]
    if notes:
        out.append('<p class="footnotes">' + "<br>".join(notes) + "</p>")
    return "\n".join(out) + "\n"


def _csv(table: FilledTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if table.spec.is_hyperparameters:
        writer.writerow(["table", "hyperparameter", "method", "path", "ours", "paper", "missing", "fidelity"])
        writer.writerows([table.spec.number, r.label, r.method, r.path, _blank(r.ours), r.paper,
                          _reason(table, r.missing), table.profile] for r in table.rows)
        return buffer.getvalue()
    writer.writerow(["table", "row", "method", "backbone", "column", "ours", "ours_std", "n", "paper",
                     "paper_std", "delta", "mark", "missing", *_CSV_STATISTICS])
    for row in table.rows:
        for header, cell in zip(table.headers, row.shown_cells):
            writer.writerow([table.spec.number, row.label, row.method, _blank(row.backbone), header,
                             _blank(cell.mean), _blank(cell.std), cell.n, _blank(cell.paper),
                             _blank(cell.paper_std), _blank(cell.delta), _blank(cell.mark),
                             _reason(table, cell.missing), *_csv_statistics(cell), table.profile])
    return buffer.getvalue()


_CSV_STATISTICS = ("ci_low", "ci_high", "verdict", "p_holm", "significance", "fidelity")


def _csv_statistics(cell: Cell) -> list[object]:
    """The statistics columns (:mod:`harness.report.annotate`); empty where there are none."""
    low, high = cell.interval if cell.interval is not None else (None, None)
    return [_blank(low), _blank(high), _blank(cell.verdict), _blank(cell.p_value), _blank(cell.significance)]


def _blank(value: object) -> object:
    return "" if value is None else value


def _reason(table: FilledTable, number: int | None) -> str:
    return "" if number is None else table.footnotes[number - 1]


def _notes(table: FilledTable) -> list[tuple[int, str]]:
    return list(enumerate(table.footnotes, start=1))


RENDERERS: dict[str, Callable[[FilledTable], str]] = {
    "md": _markdown, "tex": _latex, "csv": _csv, "html": _html}


def render(table: FilledTable, fmt: str) -> str:
    """``table`` as text in ``fmt`` (one of :data:`FORMATS`)."""
    return RENDERERS[fmt](table)
