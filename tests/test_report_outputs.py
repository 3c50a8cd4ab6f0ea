"""The report's outputs in real tools: every LaTeX table compiles, report.html renders in Chromium.

Skipped where the tool is absent (Debian: ``apt-get install texlive-latex-base
texlive-latex-recommended chromium``). The Chromium test keeps a screenshot of the page under
its tmp_path (printed with ``-s``).
"""

import re
import shutil
import subprocess

import pytest

from harness.report.build import fill
from harness.report.render import render
from harness.report.specs import TABLE_SPECS
from harness.report.write import write_report
from tests.test_report import golden_run, workdir_with

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


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_page_renders_with_its_images_in_chromium(tmp_path):
    run = golden_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    write_report(work)
    page = work / "report.html"
    probe = tmp_path / "probe.html"  # the page itself plus a script that counts loaded images
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    dom = _chromium("--dump-dom", probe.as_uri()).stdout
    counted = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert counted, dom[:2000]
    loaded, total = map(int, counted.groups())
    assert total == 2 and loaded == total
    assert dom.count('<table class="results"') == len([p for p in (work / "tables").glob("table*.md")])
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
    assert re.search(r'<li>Table 1: WikiANN F1, XLM-R: \d of 6 paper cells inside our 95 % interval', header)
    assert dom.count('<tr class="interval">') == 3 and "39.33†" in dom
    assert "approximate randomisation" in dom
    screenshot = tmp_path / "statistics.png"
    _chromium(f"--screenshot={screenshot}", "--window-size=1280,2000", (work / "report.html").as_uri())
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
