"""One self-contained ``report.html``: provenance, every table, every figure (as data URIs).

Example::

    write_page(workdir / "report.html", tables, figures, provenance(run, workdir))

The page needs nothing beside it (no stylesheet, script or image file), so it can be mailed
or archived alone. The header names the suite, the harness's git commit, the package versions
that decided the results, the date and the metric implementation with its version; under it,
one "reproduced?" line per table (:mod:`harness.statistics.cells`).
"""

from __future__ import annotations

import base64
import datetime
import html
import subprocess
from importlib import metadata
from pathlib import Path

from harness.graph import atomic_write_text
from harness.report.build import FilledTable, RunData
from harness.report.render import render, title

REPO = Path(__file__).resolve().parents[2]
_REPORT_PACKAGES = ("seqeval", "matplotlib", "tabulate")
_STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:80em}
table.results{border-collapse:collapse;margin:1em 0;font-size:85%}
table.results td,table.results th{padding:2px 6px;text-align:right;border-bottom:1px solid #ddd}
table.results th:first-child{text-align:left}
tr.paper,tr.delta,tr.interval{color:#666;font-size:90%} caption{font-weight:bold;text-align:left}
.footnotes{font-size:80%;color:#444} img{max-width:100%;border:1px solid #eee}
dl.provenance dt{font-weight:bold;float:left;clear:left;width:11em} dl.provenance dd{margin-left:12em}"""


def git_commit(repo: Path = REPO) -> str:
    """``HEAD`` of the harness's repository (``+dirty`` with uncommitted changes), or 'unknown'."""
    try:
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
            "default conlleval mode, first-subword labels); POS, NLI: harness.metrics.accuracy")


def provenance(run: RunData) -> dict[str, str]:
    """The page header's facts."""
    versions = dict(run.records[0].versions) if run.records else {}
    versions.update({name: _version(name) for name in _REPORT_PACKAGES})
    return {
        "suite": run.manifest.suite if run.manifest else "unknown (no run.json)",
        "run finished": run.manifest.finished if run.manifest else "unknown",
        "harness commit": git_commit(),
        "packages": ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        "metric": metric_implementation(),
        "report written": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "records": str(len(run.records)),
    }


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def page(tables: list[FilledTable], figures: list[Path], facts: dict[str, str]) -> str:
    """The HTML text: header, figures (PNG files embedded), then the tables."""
    header = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items())
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>unibridge-bench report</title>", f"<style>{_STYLE}</style></head><body>",
             "<h1>unibridge-bench report</h1>", f'<dl class="provenance">{header}</dl>',
             "<p>Each row shows ours, then the paper's numbers and Δ = ours − paper. Bold: best, "
             "underlined: second best per language and backbone family. – : no result, "
             "footnotes say why.</p>", "<h2>Figures</h2>"]
    figures_at = parts.index("<h2>Figures</h2>")
    parts[figures_at:figures_at] = reproduced_section(tables)  # in the header, before the figures
    parts += [_image(p) for p in figures if p.suffix == ".png"] or ["<p>No figure: no result allows one.</p>"]
    parts += ["<h2>Tables</h2>"] + [render(table, "html") for table in tables]
    return "\n".join(parts + ["</body></html>"]) + "\n"


def reproduced_section(tables: list[FilledTable]) -> list[str]:
    """The header's "reproduced?" list: one line per table whose cells have intervals."""
    lines = [f"<li>{html.escape(title(t))}: {html.escape(t.reproduced)}</li>" for t in tables if t.reproduced]
    return ['<h2>Reproduced?</h2>', '<ul class="reproduced">', *lines, "</ul>"] if lines else []


def write_page(path: Path, tables: list[FilledTable], figures: list[Path], facts: dict[str, str]) -> Path:
    """Write the page atomically."""
    atomic_write_text(path, page(tables, figures, facts))
    return path
