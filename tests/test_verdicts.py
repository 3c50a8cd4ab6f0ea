"""Verdicts against the paper: the three-way rule on Δ's interval, the margin, pipeline checks, profiles."""

import json

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.report.build import RunData, fill
from harness.report.manifest import RunManifest, read_manifest
from harness.report.render import PIPELINE_CHECK_NOTE, render
from harness.report.specs import table_spec
from harness.statistics.config import StatisticsConfig
from harness.statistics.verdict import count_verdicts, delta_interval, verdict
from tests.test_report import manifest, record, workdir_with
from tests.test_report_statistics import statistics_run

# --- the rule, on hand-worked intervals (paper 50, margin 1 unless said) -------------------------

@pytest.mark.parametrize(("interval", "paper", "margin", "expected"), [
    ((49.5, 50.5), 50.0, 1.0, "consistent"),      # Δ in [−0.5, +0.5] ⊆ [−1, +1]
    ((49.0, 51.0), 50.0, 1.0, "consistent"),      # Δ in [−1, +1]: both ends exactly on the margin
    ((48.6, 50.6), 49.6, 1.0, "consistent"),      # the same in numbers printed with two decimals
    ((48.99, 50.5), 50.0, 1.0, "inconclusive"),   # the low end just past the margin
    ((45.0, 55.0), 50.0, 1.0, "inconclusive"),    # too wide: contains the band and more
    ((50.5, 53.0), 50.0, 1.0, "inconclusive"),    # across +1
    ((51.0, 53.0), 50.0, 1.0, "inconclusive"),    # starts exactly on +1: touches the band
    ((47.0, 49.0), 50.0, 1.0, "inconclusive"),    # ends exactly on −1: touches the band
    ((51.01, 53.0), 50.0, 1.0, "differs"),        # wholly above +1
    ((40.0, 48.99), 50.0, 1.0, "differs"),        # wholly below −1
    ((52.0, 53.0), 50.0, 1.5, "differs"),         # Δ in [+2, +3]: wholly above +1.5
    ((52.0, 53.0), 50.0, 3.0, "consistent"),      # the same within a margin of 3
    ((49.0, 51.0), 50.0, 0.5, "inconclusive"),    # a narrower margin: no longer consistent
    ((50.0, 50.0), 50.0, 0.0, "consistent"),      # margin 0: only Δ = 0 exactly
    ((53.0, 47.0), 50.0, 1.0, "inconclusive"),    # an interval given high to low is sorted first
])
def test_three_way_rule(interval, paper, margin, expected):
    assert verdict(interval, paper, margin) == expected


def test_delta_interval_is_ours_shifted_by_the_paper():
    assert delta_interval((46.0, 50.25), 49.5) == (-3.5, 0.75)


def test_counts_list_every_verdict_in_order():
    assert count_verdicts(["differs", "consistent", "differs"]) == {
        "consistent": 1, "inconclusive": 0, "differs": 2}
    with pytest.raises(ValueError, match="not a verdict"):
        count_verdicts(["inside"])


@pytest.mark.parametrize("margin", [-0.5, float("inf"), float("nan")])
def test_a_margin_must_be_a_finite_distance(margin):
    with pytest.raises(ValueError, match="margin"):
        StatisticsConfig(margin=margin)
    if margin < 0:
        with pytest.raises(ValueError, match="margin"):
            verdict((1.0, 2.0), 1.5, margin)


# --- in the tables -----------------------------------------------------------------------------

def _cells(table):
    return [cell for row in table.rows for cell in row.cells if cell.interval is not None]


def test_the_margin_decides_the_verdicts_and_is_stated():
    wide = fill(table_spec(1), statistics_run(StatisticsConfig(margin=30.0)))
    assert {cell.verdict for cell in _cells(wide)} == {"consistent"}  # every Δ interval within ±30
    assert "6 consistent, 0 inconclusive, 0 differs of 6 paper cells" in wide.reproduced
    assert "against ±30 points" in wide.reproduced
    default = fill(table_spec(1), statistics_run())
    assert {cell.verdict for cell in _cells(default)} == {"inconclusive", "differs"}
    assert "against ±1 point" in default.reproduced


def test_a_pipeline_check_gets_no_verdict_and_says_its_scores_mean_nothing():
    run = statistics_run()
    check = RunData(run.records, run.manifest.model_copy(update={"pipeline_check": True}))
    table = fill(table_spec(1), check)
    assert table.pipeline_check and table.reproduced is None
    assert all(cell.verdict is None for cell in _cells(table)) and _cells(table)  # intervals stay
    for fmt in ("md", "html", "tex"):
        text = render(table, fmt)
        assert "Reproduced?" not in text and "verdict" not in text.replace("no verdict", "")
        assert "scores mean nothing" in text
    assert PIPELINE_CHECK_NOTE in render(table, "md")
    assert "consistent" not in render(table, "csv") and "differs" not in render(table, "csv")


def test_each_table_names_its_fidelity_profile(tmp_path):
    authors = manifest().model_copy(update={"fidelity": "authors"})
    run = RunData((record("unibridge", "amh", 40.0),), authors)
    for number in (1, 6):
        text = render(fill(table_spec(number), run), "md")
        assert "Fidelity profile: authors (the authors' code (UniBridge@6a38462))" in text
    paper_dir = workdir_with(tmp_path / "paper", [record("unibridge", "amh", 40.0)], manifest())
    authors_dir = workdir_with(tmp_path / "authors", [record("unibridge", "ang", 41.0, task="ner")], authors)
    merged = RunData.load(paper_dir, [authors_dir])
    assert merged.fidelities == ("paper", "authors") and merged.profile("ner") == "authors + paper"
    assert "Fidelity profile: authors + paper (merged runs of several profiles)" in render(
        fill(table_spec(1), merged), "md")
    assert merged.profile("pos") == "paper"  # no POS record: the main run's profile


def test_a_run_json_older_than_the_keys_reads_as_paper_and_no_pipeline_check(tmp_path):
    old = manifest().model_dump(mode="json")
    del old["fidelity"], old["pipeline_check"]
    (tmp_path / "run.json").write_text(json.dumps(old), encoding="utf-8")
    read = read_manifest(tmp_path)
    assert (read.fidelity, read.pipeline_check) == ("paper", False)
    with pytest.raises(ValueError):
        RunManifest(**{**old, "fidelity": "code"})


def test_the_manifest_carries_the_suites_profile_and_pipeline_check():
    from pathlib import Path
    from types import SimpleNamespace

    from harness.cli.common import load_plan
    from harness.report.manifest import manifest_of

    plan = load_plan(Path(__file__).resolve().parents[1] / "suites" / "smoke.yaml", check_data=False)
    assert manifest_of(plan, plan.jobs[:1], {}).fidelity == plan.suite.fidelity
    suite = plan.suite.model_copy(update={"fidelity": "authors", "pipeline_check": True})
    made = manifest_of(SimpleNamespace(suite=suite, env=plan.env, methods=plan.methods), plan.jobs[:1], {})
    assert (made.fidelity, made.pipeline_check) == ("authors", True)


def test_report_margin_option(tmp_path):
    run = statistics_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    result = CliRunner().invoke(cli, ["report", str(work), "--tables", "1", "--format", "md",
                                      "--margin", "30"])
    assert result.exit_code == 0, result.output
    assert "6 consistent, 0 inconclusive, 0 differs" in (work / "tables" / "table01.md").read_text("utf-8")
    bad = CliRunner().invoke(cli, ["report", str(work), "--margin", "-1"])
    assert bad.exit_code != 0 and "--margin" in bad.output


# --- report --compare: each side's profile, B − A per paper table --------------------------------

def test_compare_a_paper_and_an_authors_run_per_table_with_paired_tests(tmp_path):
    from harness.report.compare import compare
    from tests.test_report_statistics import counted

    records = [counted("unibridge", "amh", 0.3), counted("unibridge", "ang", 0.5),
               counted("mad_x", "amh", 0.4)]
    paper = workdir_with(tmp_path / "wikiann", records, manifest())
    authors = workdir_with(tmp_path / "wikiann-authors", [counted("unibridge", "amh", 0.6, seed=2),
                                                          counted("unibridge", "ang", 0.5, seed=2)],
                           manifest().model_copy(update={"fidelity": "authors"}))
    comparison = compare(paper, authors, StatisticsConfig(rounds=2000))
    assert comparison.sides[0].startswith("A: wikiann — suite synthetic, fidelity profile paper (the paper's")
    assert comparison.sides[1].startswith("B: wikiann-authors — suite synthetic, fidelity profile authors")
    rows = {(row[0], row[1]): row[2:] for row in comparison.tables.rows}
    assert ("Table 1", "UniBridge (XLM-R)") in rows  # and the other NER tables with its row
    assert {label for _, label in rows} == {"UniBridge (XLM-R)"}  # MAD-X is in A only
    cells, mean_a, mean_b, delta, tested, better, worse = rows[("Table 1", "UniBridge (XLM-R)")]
    by_lang = {row[3]: row for row in comparison.cells.rows}
    assert (cells, tested, better, worse) == (2, 2, 1, 0)  # amh: B finds twice the entities
    assert delta == pytest.approx(round((by_lang["amh"][6] + by_lang["ang"][6]) / 2, 2), abs=0.01)
    assert delta == pytest.approx(mean_b - mean_a, abs=0.02)
    result = CliRunner().invoke(cli, ["report", "--compare", str(paper), str(authors), "--rounds", "500"])
    assert result.exit_code == 0, result.output
    assert "fidelity profile paper" in result.output and "fidelity profile authors" in result.output
    assert "B − A per paper table and row" in result.output and "UniBridge (XLM-R)" in result.output


def test_compare_names_a_pipeline_check(tmp_path):
    from harness.report.compare import compare

    check = manifest().model_copy(update={"pipeline_check": True})
    a = workdir_with(tmp_path / "a", [record("unibridge", "amh", 40.0)], check)
    b = workdir_with(tmp_path / "b", [record("unibridge", "amh", 41.0)], check)
    comparison = compare(a, b)
    assert all("a pipeline check: its scores mean nothing" in side for side in comparison.sides)
    assert comparison.tables.rows[0][2:] == (1, 40.0, 41.0, 1.0, 0, 0, 0)  # no counts: untested


# --- the page and its charts ---------------------------------------------------------------------

def test_method_chart_draws_every_method_per_language_with_intervals_and_the_papers_ticks():
    from harness.report.figures import _pyplot, draw_methods
    from harness.report.paper import paper_table

    table = fill(table_spec(1), statistics_run())
    papers = [paper_table(1).row(row.label) for row in table.rows]
    plt = _pyplot()
    figure, ax = plt.subplots()
    draw_methods(ax, table.rows, papers, table.headers[:14])
    width = 0.8 / 3
    from matplotlib.container import BarContainer

    groups = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(groups) == 3
    for k, (bars, row) in enumerate(zip(groups, table.rows)):  # one group per method
        centres = [round(bar.get_x() + bar.get_width() / 2, 6) for bar in bars]
        assert centres == [round(-0.4 + width * (k + 0.5), 6), round(0.6 + width * (k + 0.5), 6)]  # amh, ang
        assert [bar.get_height() for bar in bars] == pytest.approx([c.mean for c in row.cells[:2]])
    segments = [[tuple(point) for point in s.tolist()] for c in ax.collections for s in c.get_segments()]
    expected = [[(x, low), (x, high)] for k, row in enumerate(table.rows)
                for x, (low, high) in zip((-0.4 + width * (k + 0.5), 0.6 + width * (k + 0.5)),
                                          (c.interval for c in row.cells[:2]))]
    assert segments == [[pytest.approx(p) for p in s] for s in expected]
    ticks = [list(line.get_ydata()) for line in ax.lines if line.get_gid() == "paper"]  # not the caps
    assert ticks == [list(paper.cells) for paper in papers]  # the paper's number of each method
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["paper", "XLM-R", "MAD-X (XLM-R)", "UniBridge (XLM-R)"]
    plt.close(figure)


def test_the_page_opens_with_contents_and_each_verdict_line_names_its_profile(tmp_path):
    run = statistics_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    from harness.report.write import write_report

    write_report(work, numbers=[1, 6])
    text = (work / "report.html").read_text(encoding="utf-8")
    nav = text.index('<nav class="contents">')
    assert nav < text.index('<section id="provenance">') < text.index("<h2>Figures</h2>")
    contents = text[nav:text.index("</nav>")]
    for anchor in ("#provenance", "#reproduced", "#figure-methods-table01", "#figure-languages-ner",
                   "#results-ner", "#table01", "#table06"):
        assert f'href="{anchor}"' in contents and anchor.lstrip("#") in text.replace(contents, "")
    assert "Table 1: WikiANN F1, XLM-R (fidelity profile paper)" in contents
    assert "— fidelity profile paper</li>" in text
    assert "pipeline-check" not in text.replace("p.pipeline-check", "")  # no warning but the stylesheet's
    assert "<dt>verdict margin</dt><dd>±1 point of the metric (report --margin)</dd>" in text


def test_a_pipeline_check_page_says_so_first_and_gives_no_verdict(tmp_path):
    from harness.report.write import write_report

    run = statistics_run()
    check = run.manifest.model_copy(update={"pipeline_check": True})
    work = workdir_with(tmp_path / "run", run.records, check)
    write_report(work, numbers=[1])
    text = (work / "report.html").read_text(encoding="utf-8")
    warning = text.index('<p class="pipeline-check">')
    assert warning < text.index('<nav class="contents">')
    assert "its scores mean nothing" in text[warning:warning + 400]
    assert '<ul class="reproduced">' not in text and "Reproduced?" not in text
    assert "<dd>none: a pipeline check gets no verdict</dd>" in text
    assert "consistent" not in (work / "tables" / "table01.md").read_text(encoding="utf-8")
