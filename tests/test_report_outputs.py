"""The report's outputs in real tools: every LaTeX table compiles, report.html renders in Chromium.

Skipped where the tool is absent (Debian: ``apt-get install texlive-latex-base
texlive-latex-recommended chromium``). The Chromium test keeps a screenshot of the page under
its tmp_path (printed with ``-s``).
"""

import html
import json
import re
import shutil
import subprocess

import pytest

from harness.report.build import RunData, fill
from harness.report.render import render
from harness.report.specs import TABLE_SPECS
from harness.report.write import write_report
from tests.test_report import golden_run, record, workdir_with

PDFLATEX = shutil.which("pdflatex")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCUMENT = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{booktabs}
\usepackage[margin=1cm,landscape]{geometry}
\begin{document}
%s
\end{document}
"""
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const loaded = images.filter(img => img.complete && img.naturalWidth > 0).length;
  document.body.setAttribute("data-images", loaded + "/" + images.length);
  const rows = [...document.querySelectorAll("table.results tbody tr")]
    .filter(tr => tr.offsetHeight > 0)  /* rendered, not hidden */
    .map(tr => [tr.closest("table").id, ...[...tr.cells].map(td => td.innerText.trim())]);
  const out = document.createElement("pre");
  out.id = "probe-rows";
  out.textContent = JSON.stringify(rows);
  document.body.appendChild(out);
});
</script></body>"""


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_every_latex_table_compiles(tmp_path):
    tables = "\n\\clearpage\n".join(render(fill(spec, golden_run()), "tex") for spec in TABLE_SPECS)
    (tmp_path / "tables.tex").write_text(DOCUMENT % tables, encoding="utf-8")
    done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "tables.pdf").stat().st_size > 0
    assert "Missing character" not in (tmp_path / "tables.log").read_text(errors="replace")


def _chromium(*args, timeout=120):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def page_run() -> RunData:
    """The golden run plus what no paper table has a row for: a variant, tiny mGPT/mBART ablations,
    a score of 0 and a second task."""
    run = golden_run()
    extra = (record("unibridge_uniform_weights", "amh", 12.5), record("unibridge", "ang", 0.0, seed=2),
             record("unibridge_no_kl", "amh", 3.0, backbone="tiny-mgpt"),
             record("unibridge_no_multi_source", "amh", 4.0, backbone="tiny-mbart"),
             record("unibridge", "tgl", 0.0, task="pos"), record("zero_shot", "tgl", 20.0, task="pos"))
    return RunData(run.records + extra, run.manifest)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_page_renders_every_record_and_its_images_in_chromium(tmp_path):
    run = page_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    write_report(work)
    page = work / "report.html"
    probe = tmp_path / "probe.html"  # the page itself plus a script that reports what rendered
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    dom = _chromium("--dump-dom", probe.as_uri()).stdout
    counted = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert counted, dom[:2000]
    loaded, total = map(int, counted.groups())
    assert total == 5 and loaded == total  # figure 3, languages-ner, languages-pos, methods-table01, -table03
    rendered = json.loads(html.unescape(re.search(r'<pre id="probe-rows">(.*?)</pre>', dom, re.S).group(1)))
    shown = {(table, row[0], row[1]) for table, *row in rendered if table.startswith("results-")}
    for r in run.records:  # every record's backbone and method is a rendered row of its task's table
        assert (f"results-{r.task}", r.backbone, r.method) in shown, r.job_id
    uniform = next(row for table, *row in rendered if row[:2] == ["tiny-xlmr", "unibridge_uniform_weights"])
    assert uniform[2:] == ["12.50", "–", "–"]  # amh, ang (no result), no average
    paper_tables = len(list((work / "tables").glob("table*.md")))
    assert len({table for table, *_ in rendered}) == paper_tables + 2  # + results-ner, results-pos
    screenshot = tmp_path / "report.png"
    _chromium(f"--screenshot={screenshot}", "--window-size=1280,3000", page.as_uri())
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_latex_table_with_intervals_and_marks_compiles(tmp_path):
    from tests.test_report_statistics import statistics_run

    (tmp_path / "stats.tex").write_text(DOCUMENT % render(fill(TABLE_SPECS[0], statistics_run()), "tex"),
                                        encoding="utf-8")
    done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "stats.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Missing character" not in (tmp_path / "stats.log").read_text(errors="replace")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_page_with_statistics_renders_in_chromium(tmp_path):
    from tests.test_report_statistics import statistics_run

    run = statistics_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    write_report(work, numbers=[1])
    dom = _chromium("--dump-dom", (work / "report.html").as_uri()).stdout
    header = dom[:dom.index("<h2>Figures</h2>")]
    assert re.search(r'<li>.*Table 1: WikiANN F1, XLM-R.*: \d consistent, \d inconclusive, \d differs '
                     r'of 6 paper cells', header)
    assert dom.count('<tr class="interval">') == 3 and "39.33†" in dom
    assert "approximate randomisation" in dom
    screenshot = tmp_path / "statistics.png"
    _chromium(f"--screenshot={screenshot}", "--window-size=1280,2000", (work / "report.html").as_uri())
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
