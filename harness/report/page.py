"""One self-contained ``report.html``: provenance, every figure (as data URIs), every table.

Example::

    write_page(workdir / "report.html", tables, results, figures, provenance(run))

The page needs nothing beside it (no stylesheet, script or image file), so it can be mailed
or archived alone. The header names the suite, the device and seeds, the harness's git commit,
the package versions that decided the results, the date and the metric implementation with its
version; under it, one "reproduced?" line per table (:mod:`harness.report.annotate`). After the
figures come the per-task results tables (every record the run holds, each method and backbone as
named in the suite: variants and backbones no paper table has a row for appear here only), then
the paper's tables beside the paper's numbers, with their intervals and paired-test marks.
"""

from __future__ import annotations

import base64
import datetime
import html
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from harness.core.workdir import atomic_write_text
from harness.report.build import FilledTable, RunData
from harness.report.render import MISSING, render, title
from harness.report.tables import Table
from harness.report.tables import render as render_table

#: Where the harness's source checkout would be: the folder holding the ``harness`` package.
REPO = Path(__file__).resolve().parents[2]
_REPORT_PACKAGES = ("seqeval", "matplotlib", "tabulate")
_STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:80em}
table.results{border-collapse:collapse;margin:1em 0;font-size:85%}
table.results td,table.results th{padding:2px 6px;text-align:right;border-bottom:1px solid #ddd}
table.results th:first-child,table.every th:nth-child(2){text-align:left}
tr.paper,tr.delta,tr.interval,tr.verdict{color:#666;font-size:90%} caption{font-weight:bold;text-align:left}
.footnotes{font-size:80%;color:#444} img{max-width:100%;border:1px solid #eee}
dl.provenance dt{font-weight:bold;float:left;clear:left;width:11em} dl.provenance dd{margin-left:12em}"""


def git_commit(repo: Path = REPO) -> str:
    """``HEAD`` of the harness's repository (``+dirty`` with uncommitted changes), or 'unknown'.

    'unknown' also where ``repo`` is not the top of a git work tree: an installed wheel's
    site-packages (``git_commit(Path(".venv/lib/python3.11/site-packages"))``), which may lie inside
    another project's repository, whose commit is not the harness's.
    """
    try:
        top = subprocess.run(["git", "-C", str(repo), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, check=True).stdout.strip()
        if Path(top).resolve() != Path(repo).resolve():
            return "unknown"
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def metric_implementation() -> str:
    """What computes the scores: seqeval called directly for NER (docs/choices.md), accuracy in-house."""
    return (f"NER: seqeval {_version('seqeval')} seqeval.metrics.f1_score (entity-level micro F1, "
            "default conlleval mode, first-subword labels); POS, NLI: harness.tasks.metrics.accuracy")


def seeds_of(run: RunData) -> str:
    """The seeds of the records (and the suite's, when they differ: a ``--seed`` or merged run)."""
    found = ", ".join(map(str, sorted({r.seed for r in run.records}))) or "none (no records)"
    asked = ", ".join(map(str, run.manifest.seeds)) if run.manifest else None
    return found if asked in (None, found) else f"{found} (suite: {asked})"


def provenance(run: RunData) -> dict[str, str]:
    """The page header's facts."""
    versions = dict(run.records[0].versions) if run.records else {}
    versions.update({name: _version(name) for name in _REPORT_PACKAGES})
    manifest = run.manifest
    return {
        "suite": manifest.suite if manifest else "unknown (no run.json)",
        "device": (manifest.device or "not recorded (run.json predates it)") if manifest else "unknown",
        "seeds": seeds_of(run),
        "run finished": manifest.finished if manifest else "unknown",
        "harness commit": git_commit(),
        "packages": ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        "metric": metric_implementation(),
        "report written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "records": str(len(run.records)),
        **({"plugins": "; ".join(f"{entry}: {origin}" for entry, origin in manifest.plugins.items())}
           if manifest and manifest.plugins else {}),
    }


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def _value(cell: object) -> str:
    return MISSING if cell is None else f"{cell:.2f}"


def results_html(table: Table) -> str:
    """A per-task results table (:func:`harness.report.tables.results_table`) as an HTML table."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = [f"<tr><th>{html.escape(backbone)}</th><th>{html.escape(method)}</th>"
            + "".join(f"<td>{_value(cell)}</td>" for cell in cells) + "</tr>"
            for backbone, method, *cells in table.rows]
    task = html.escape(table.name.removeprefix("results-"))
    return "\n".join([f'<table class="results every" id="{html.escape(table.name)}">',
                      f"<caption>Every {task} result</caption>",
                      f"<thead><tr>{head}</tr></thead>", "<tbody>", *body, "</tbody>", "</table>"]) + "\n"


def page(tables: list[FilledTable], results: list[Table], figures: list[Path], facts: dict[str, str],
         plugins: Sequence[Table] = ()) -> str:
    """The HTML text: header, figures (PNG files embedded), every result per task, the paper's tables.

    ``plugins``: the tables of plugins (:mod:`harness.report.plugin_tables`), each under its name.
    """
    header = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items())
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>unibridge-bench report</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>unibridge-bench report</h1>", f'<dl class="provenance">{header}</dl>',
             *reproduced_section(tables), "<h2>Figures</h2>"]
    parts += [_image(p) for p in figures if p.suffix == ".png"] or ["<p>No figure: no result allows one.</p>"]
    parts += ["<h2>Every result, per task</h2>",
              "<p>Each backbone and method of the records, as the suite names them: the mean over "
              "seeds per language, the average when every language has one. – : no result.</p>"]
    parts += [results_html(t) for t in results]
    parts += ["<h2>The paper's tables</h2>",
              "<p>Each row shows ours, then the paper's numbers and Δ = ours − paper. Bold: best, "
              "underlined: second best per language and backbone family, as the paper marks each "
              "table. – : no result, footnotes say why.</p>"] + [render(table, "html") for table in tables]
    if plugins:
        parts += ["<h2>Tables of plugins</h2>"]
        parts += [f"<h3>{html.escape(table.name)}</h3>\n{render_table(table, 'html')}" for table in plugins]
    return "\n".join(parts + ["</body></html>"]) + "\n"


def reproduced_section(tables: list[FilledTable]) -> list[str]:
    """The header's "reproduced?" list: one line per table whose cells have intervals."""
    lines = [f"<li>{html.escape(title(t))}: {html.escape(t.reproduced)}</li>" for t in tables if t.reproduced]
    return ['<h2>Reproduced?</h2>', '<ul class="reproduced">', *lines, "</ul>"] if lines else []


def write_page(path: Path, tables: list[FilledTable], results: list[Table], figures: list[Path],
               facts: dict[str, str], plugins: Sequence[Table] = ()) -> Path:
    """Write the page atomically."""
    atomic_write_text(path, page(tables, results, figures, facts, plugins))
    return path
