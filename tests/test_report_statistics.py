"""Statistics in the report: intervals, paired marks, "reproduced?" lines, compare, figures, page."""

import csv
import io
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.report.build import RunData, fill
from harness.report.figures import figure3_intervals, write_figures
from harness.report.page import page
from harness.report.render import render
from harness.report.specs import table_spec
from harness.report.write import compare_runs
from harness.run.records import ResultRecord
from harness.statistics.bootstrap import cell_seed, estimate_cell, resample_weights
from harness.statistics.config import DEFAULT_STATISTICS, StatisticsConfig
from harness.statistics.counts import seed_counts
from harness.statistics.multiple import holm
from harness.statistics.paired import approximate_randomisation
from harness.tasks.metrics import get_metric
from tests.test_report import manifest, workdir_with

GOLDEN = Path(__file__).parent / "golden" / "statistics"
F1 = get_metric("f1")
SENTENCES = {"amh": 100, "ang": 120}


def counted(method, lang, skill, seed=1, backbone="tiny-xlmr"):
    """A record with per-sentence tp/fp/fn drawn for ``skill`` (share of entities found)."""
    rng = np.random.default_rng([seed, int(skill * 100), len(lang), ord(lang[1])])
    entities = np.random.default_rng([7, ord(lang[1])]).integers(0, 4, SENTENCES[lang])  # one test set
    tp = rng.binomial(entities, skill)
    fp = rng.binomial(2, 0.15, SENTENCES[lang])
    counts = np.stack([tp, fp, entities - tp], axis=1)
    per_example = {"tp": tp.tolist(), "fp": fp.tolist(), "fn": (entities - tp).tolist()}
    return ResultRecord(method=method, backbone=backbone, task="ner", lang=lang, seed=seed, metric="f1",
                        value=float(F1.from_sums(counts.sum(0))), config_hash="x",
                        stages={"backbone": {"kind": "backbone", "arch": "xlmr", "name": backbone}},
                        details={"per_example": per_example, "split_digest": f"split-{lang}"},
                        versions={"seqeval": "1.2.2"})


def statistics_run(config=DEFAULT_STATISTICS) -> RunData:
    records = [counted("zero_shot", "amh", 0.25), counted("zero_shot", "ang", 0.45),
               counted("mad_x", "amh", 0.45), counted("mad_x", "ang", 0.47),
               counted("unibridge", "amh", 0.5), counted("unibridge", "amh", 0.55, seed=2),
               counted("unibridge", "ang", 0.5)]
    return RunData(tuple(records), manifest(methods=("zero_shot", "mad_x", "unibridge")), statistics=config)


def row_of(table, method):
    return next(row for row in table.rows if row.method == method)


def test_cell_interval_is_the_bootstrap_of_its_records():
    run = statistics_run()
    cell = row_of(fill(table_spec(1), run), "unibridge").cells[0]
    records = [r for r in run.records if r.method == "unibridge" and r.lang == "amh"]
    expected = estimate_cell(seed_counts(records), resample_weights(100, 1000, cell_seed(0, "ner", "amh")))
    assert cell.interval == (expected.low, expected.high)
    assert cell.mean == pytest.approx(expected.mean) and cell.std == pytest.approx(expected.spread)
    assert cell.interval[0] < cell.mean < cell.interval[1]


def test_same_seed_same_intervals_other_seed_others():
    first, again = (render(fill(table_spec(1), statistics_run()), "csv") for _ in range(2))
    assert first == again
    other = render(fill(table_spec(1), statistics_run(StatisticsConfig(seed=1))), "csv")
    assert other != first


def test_marks_are_holm_corrected_paired_tests_against_unibridge():
    run = statistics_run()
    table = fill(table_spec(1), run)
    zero = row_of(table, "zero_shot")
    samples = {(m, lang): seed_counts([r for r in run.records if r.method == m and r.lang == lang])
               for m in ("zero_shot", "unibridge") for lang in ("amh", "ang")}
    raw = [approximate_randomisation(samples[("unibridge", lang)], samples[("zero_shot", lang)], 10_000,
                                     cell_seed(0, "ner", lang, "paired")).p_value for lang in ("amh", "ang")]
    assert [c.p_value for c in zero.cells[:2]] == pytest.approx(holm(raw))
    assert zero.cells[0].significance == "†"  # UniBridge finds twice the entities on amh
    assert zero.cells[1].p_value > 0.05 and zero.cells[1].significance is None
    assert all(c.p_value is None for c in row_of(table, "unibridge").cells)
    assert "approximate randomisation" in table.significance_note and "Holm" in table.significance_note


def _by_hand(interval, paper, margin=1.0):
    """The verdict rule written out: Δ's interval inside, outside or across the band ±margin."""
    low, high = interval[0] - paper, interval[1] - paper
    if -margin <= low and high <= margin:
        return "consistent"
    return "differs" if high < -margin or low > margin else "inconclusive"


def test_reproduced_line_counts_the_verdicts_of_the_cells():
    table = fill(table_spec(1), statistics_run())
    judged = [c for row in table.rows for c in row.cells if c.interval is not None]
    expected = [_by_hand(c.interval, c.paper) for c in judged]
    assert [c.verdict for c in judged] == expected
    delta = np.mean([c.mean - c.paper for c in judged])
    assert len(judged) == 6
    counts = ", ".join(f"{expected.count(v)} {v}" for v in ("consistent", "inconclusive", "differs"))
    assert table.reproduced == (f"{counts} of 6 paper cells (95 % interval of Δ = ours − paper against "
                                f"±1 point); mean Δ {delta:+.2f}").replace("-", "−")
    assert row_of(table, "unibridge").average.interval is None  # 12 languages have no result


def test_cells_without_counts_have_no_statistics():
    run = statistics_run()
    bare = RunData(tuple(r.model_copy(update={"details": {}}) for r in run.records), run.manifest)
    table = fill(table_spec(1), bare)
    assert table.reproduced is None and table.significance_note is None
    assert "95 % CI" not in render(table, "md")


@pytest.mark.parametrize("fmt", ["md", "tex", "csv", "html"])
def test_golden_statistics(fmt):
    text = render(fill(table_spec(1), statistics_run()), fmt)
    path = GOLDEN / f"table01.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert "Reproduced? " in text or fmt == "csv"
    assert ("textdagger" if fmt == "tex" else "†") in text


def test_csv_columns_hold_interval_verdict_and_p():
    rows = list(csv.DictReader(io.StringIO(render(fill(table_spec(1), statistics_run()), "csv"))))
    amh = next(r for r in rows if r["method"] == "zero_shot" and r["column"] == "amh")
    assert float(amh["ci_low"]) < float(amh["ours"]) < float(amh["ci_high"])
    interval = (float(amh["ci_low"]), float(amh["ci_high"]))
    assert amh["verdict"] == _by_hand(interval, float(amh["paper"])) and amh["significance"] == "†"
    assert amh["fidelity"] == "paper"
    assert float(amh["p_holm"]) < 0.05


def test_page_header_has_a_reproduced_line_per_table_and_figures_have_bars(tmp_path):
    run = statistics_run()
    text = page([fill(table_spec(1), run)], [], [], {"suite": "synthetic"})
    header = text[:text.index("<h2>Figures</h2>")]
    assert '<ul class="reproduced">' in header and "Table 1: WikiANN F1, XLM-R: " in header
    assert "paper cells (95 % interval of Δ = ours − paper against ±1 point)" in header
    assert [p.name for p in write_figures(run, tmp_path)] == ["languages-ner.png", "languages-ner.pdf",
                                                              "methods-table01.png", "methods-table01.pdf"]


def test_figure3_intervals_over_thresholds(tmp_path):
    runs = []
    for eps, skill in ((5, 0.5), (10, 0.4)):
        records = [counted("unibridge", lang, skill) for lang in SENTENCES]
        runs.append(workdir_with(tmp_path / f"eps{eps}", records, manifest(threshold=float(eps))))
    run = RunData.load(runs[0], runs[1:])
    intervals = figure3_intervals(run)
    assert sorted(intervals["xlmr"]) == [5.0, 10.0]
    for eps, (low, high) in intervals["xlmr"].items():
        mean = np.mean([r.value for r, t in zip(run.records, run.thresholds) if t == eps])
        assert low < mean < high
    assert "figure3.png" in [p.name for p in write_figures(run, tmp_path / "fig")]


def test_compare_tests_each_cell_of_two_runs(tmp_path):
    a = workdir_with(tmp_path / "a", [counted("unibridge", "amh", 0.3), counted("unibridge", "ang", 0.5)])
    b = workdir_with(tmp_path / "b", [counted("unibridge", "amh", 0.6, seed=2),
                                      counted("unibridge", "ang", 0.5, seed=2)])
    table = compare_runs(a, b)
    assert table.headers[-2:] == ("p", "p (Holm)")
    rows = {row[3]: row for row in table.rows}
    assert rows["amh"][-1] < 0.05 and rows["ang"][-1] > 0.05
    assert rows["amh"][-1] == pytest.approx(min(1.0, 2 * rows["amh"][-2]), abs=1e-4)  # Holm, smallest p
    result = CliRunner().invoke(cli, ["report", "--compare", str(a), str(b), "--rounds", "500"])
    assert result.exit_code == 0, result.output
    assert "approximate randomisation" in result.output and "500 rounds" in result.output


def test_error_bars_span_the_intervals():
    from harness.report.figures import _error_bars, _pyplot

    plt = _pyplot()
    figure, axes = plt.subplots()
    _error_bars(axes, [0.0, 1.0, 2.0], [40.0, 50.0, 45.0], [(35.0, 44.0), None, (41.5, 47.0)], "black")
    segments = [s.tolist() for c in axes.collections for s in c.get_segments()]
    plt.close(figure)
    assert segments == [[[0.0, 35.0], [0.0, 44.0]], [[2.0, 41.5], [2.0, 47.0]]]


def test_report_options_set_replicates_and_seed(tmp_path):
    run = statistics_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)

    def ci_of(*options):
        result = CliRunner().invoke(cli, ["report", str(work), "--tables", "1", "--format", "csv", *options])
        assert result.exit_code == 0, result.output
        rows = csv.DictReader(io.StringIO((work / "tables" / "table01.csv").read_text(encoding="utf-8")))
        amh = next(r for r in rows if r["method"] == "unibridge" and r["column"] == "amh")
        return amh["ci_low"], amh["ci_high"]

    default = ci_of()
    assert ci_of("--bootstrap-samples", "1000", "--statistics-seed", "0") == default
    assert ci_of("--statistics-seed", "5") != default
    assert ci_of("--bootstrap-samples", "300") != default
    bad = CliRunner().invoke(cli, ["report", str(work), "--bootstrap-samples", "0"])
    assert bad.exit_code != 0 and "--bootstrap-samples" in bad.output


def test_seeds_scored_on_different_examples_get_no_interval_and_a_warning(caplog):
    run = statistics_run()
    other = counted("unibridge", "ang", 0.5, seed=2).model_copy(deep=True)
    other.details["split_digest"] = "another-revision"
    table = fill(table_spec(1), RunData((*run.records, other), run.manifest))
    assert row_of(table, "unibridge").cells[1].interval is None
    assert row_of(table, "unibridge").cells[0].interval is not None
    assert "not scored on the same test examples" in caplog.text
