"""One self-contained ``report.html``: provenance, every figure (as data URIs), every table.

Example::

    write_page(workdir / "report.html", tables, results, figures, provenance(run))

The page needs nothing beside it (no stylesheet, script or image file), so it can be mailed
or archived alone. It opens with a table of contents (links to every section, figure and table);
for a pipeline check, above it, a warning that the scores mean nothing. The provenance names the
suite, its fidelity profile, the device and seeds, the harness's git commit, the package
versions that decided the results, the date, the metric implementation with its version and the
verdicts' margin; under it, one verdict line per table with its profile
(:mod:`harness.report.annotate`). After the figures come the per-task results tables (every
record the run holds, each method and backbone as named in the suite: variants and backbones no
paper table has a row for appear here only), then the paper's tables beside the paper's numbers,
with their intervals, verdicts and paired-test marks. docs/reports.md describes the layout.
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
from harness.report.render import MISSING, PIPELINE_CHECK_NOTE, PROFILES, render, title
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
dl.provenance dt{font-weight:bold;float:left;clear:left;width:11em} dl.provenance dd{margin-left:12em}
p.pipeline-check{border:2px solid #b00;background:#fee;padding:.6em;font-size:110%}
nav.contents ul{margin:.2em 0} figcaption{font-size:85%;color:#444}"""


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


def profile_fact(run: RunData) -> str:
    """``paper (the paper's text)``; a pipeline check says so."""
    profile = run.profile()
    text = profile + (f" ({PROFILES[profile]})" if profile in PROFILES else "")
    return text + ("; pipeline check: the scores mean nothing" if run.is_pipeline_check else "")


def margin_fact(run: RunData) -> str:
    """The verdicts' margin, or why there are none."""
    if run.is_pipeline_check:
        return "none: a pipeline check gets no verdict"
    margin = run.statistics.margin
    return f"±{margin:g} point{'' if margin == 1 else 's'} of the metric (report --margin)"


def provenance(run: RunData) -> dict[str, str]:
    """The page header's facts."""
    versions = dict(run.records[0].versions) if run.records else {}
    versions.update({name: _version(name) for name in _REPORT_PACKAGES})
    manifest = run.manifest
    return {
        "suite": manifest.suite if manifest else "unknown (no run.json)",
        "fidelity profile": profile_fact(run),
        "verdict margin": margin_fact(run),
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


def figure_caption(stem: str) -> str:
    """What a figure file shows, from its stem (:mod:`harness.report.figures`)."""
    if stem == "figure3":
        return "Figure 3: UniBridge's mean WikiANN F1 against the ALP threshold"
    if stem.startswith("languages-"):
        return f"UniBridge per language against the paper ({stem.removeprefix('languages-')})"
    if stem.startswith("methods-table"):
        return f"Table {int(stem.removeprefix('methods-table'))}: every method per language against the paper"
    return stem


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = html.escape(figure_caption(path.stem))
    return (f'<figure id="figure-{html.escape(path.stem)}"><img alt="{html.escape(path.stem)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{caption}</figcaption></figure>')


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
         plugins: Sequence[Table] = (), pipeline_check: bool = False) -> str:
    """The HTML text: contents, header, figures (PNG files embedded), every result, the paper's tables.

    ``plugins``: the tables of plugins (:mod:`harness.report.plugin_tables`), each under its name.
    ``pipeline_check``: the run only checks the pipeline; the page opens by saying its scores
    mean nothing.
    """
    images = [p for p in figures if p.suffix == ".png"]
    header = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items())
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>unibridge-bench report</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>unibridge-bench report</h1>"]
    parts += [f'<p class="pipeline-check">{html.escape(PIPELINE_CHECK_NOTE)}</p>'] if pipeline_check else []
    parts += [contents(tables, results, images, plugins), '<section id="provenance"><h2>Provenance</h2>',
              f'<dl class="provenance">{header}</dl></section>', *reproduced_section(tables),
              '<section id="figures">', "<h2>Figures</h2>"]
    parts += [_image(p) for p in images] or ["<p>No figure: no result allows one.</p>"]
    parts += ["</section>", '<section id="results">', "<h2>Every result, per task</h2>",
              "<p>Each backbone and method of the records, as the suite names them: the mean over "
              "seeds per language, the average when every language has one. – : no result.</p>"]
    parts += [results_html(t) for t in results]
    parts += ["</section>", '<section id="paper-tables">', "<h2>The paper's tables</h2>",
              "<p>Each row shows ours, then the paper's numbers, Δ = ours − paper and, where the "
              "records allow, our 95 % interval and the verdict on Δ (consistent, inconclusive, "
              "differs). Bold: best, underlined: second best per language and backbone family, as "
              "the paper marks each table. – : no result, footnotes say why.</p>"]
    parts += [render(table, "html") for table in tables] + ["</section>"]
    if plugins:
        parts += ['<section id="plugin-tables">', "<h2>Tables of plugins</h2>"]
        parts += [f'<h3 id="plugin-{html.escape(table.name)}">{html.escape(table.name)}</h3>\n'
                  f"{render_table(table, 'html')}" for table in plugins] + ["</section>"]
    return "\n".join(parts + ["</body></html>"]) + "\n"


def contents(tables: Sequence[FilledTable], results: Sequence[Table], images: Sequence[Path],
             plugins: Sequence[Table] = ()) -> str:
    """The table of contents: every section, with its figures and tables as sub-lists."""
    def entry(anchor: str, text: str, children: Sequence[tuple[str, str]] = ()) -> str:
        sub = "".join(f'<li><a href="#{html.escape(a)}">{html.escape(t)}</a></li>' for a, t in children)
        return (f'<li><a href="#{anchor}">{html.escape(text)}</a>'
                + (f"<ul>{sub}</ul>" if sub else "") + "</li>")

    items = [entry("provenance", "Provenance")]
    if any(t.reproduced for t in tables):
        items.append(entry("reproduced", "Reproduced? Verdicts per table"))
    items.append(entry("figures", "Figures", [(f"figure-{p.stem}", figure_caption(p.stem)) for p in images]))
    items.append(entry("results", "Every result, per task",
                       [(t.name, f"Every {t.name.removeprefix('results-')} result") for t in results]))
    items.append(entry("paper-tables", "The paper's tables",
                       [(t.spec.name, f"{title(t)} (fidelity profile {t.profile})") for t in tables]))
    if plugins:
        items.append(entry("plugin-tables", "Tables of plugins",
                           [(f"plugin-{t.name}", t.name) for t in plugins]))
    return '<nav class="contents"><h2>Contents</h2><ul>' + "".join(items) + "</ul></nav>"


def reproduced_section(tables: list[FilledTable]) -> list[str]:
    """The header's verdict list: one line per table whose cells have verdicts, with its profile."""
    lines = [f"<li>{html.escape(title(t))}: {html.escape(t.reproduced)} — fidelity profile "
             f"{html.escape(t.profile)}</li>" for t in tables if t.reproduced]
    if not lines:
        return []
    return ['<section id="reproduced"><h2>Reproduced?</h2>', '<ul class="reproduced">', *lines, "</ul>",
            "<p>Per cell with a paper number and an interval: consistent when the whole 95 % interval "
            "of Δ = ours − paper lies within ±margin, differs when it lies wholly outside, inconclusive "
            "otherwise (docs/choices.md, \"Verdicts against the paper\").</p></section>"]


def write_page(path: Path, tables: list[FilledTable], results: list[Table], figures: list[Path],
               facts: dict[str, str], plugins: Sequence[Table] = (), pipeline_check: bool = False) -> Path:
    """Write the page atomically."""
    atomic_write_text(path, page(tables, results, figures, facts, plugins, pipeline_check))
    return path
