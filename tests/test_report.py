"""The report layer on synthetic records: declarations, cells, marks, missing, formats, commands."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.report.build import RunData, column_marks, fill
from harness.report.figures import chart_title, draw_panel, figure3_points, write_figures
from harness.report.manifest import RunManifest, read_manifest, write_manifest
from harness.report.paper import PaperRow, paper_table
from harness.report.render import render
from harness.report.specs import PAPER_COLUMN_CODES, TABLE_SPECS, Setting, table_spec
from harness.report.write import compare_runs, write_report
from harness.run.records import RESULTS_FILE, ResultRecord

GOLDEN = Path(__file__).parent / "golden" / "report"
ARCH_OF = {"tiny-xlmr": "xlmr", "tiny-mbert": "bert", "tiny-mgpt": "gpt2", "tiny-mbart": "mbart"}


def record(method, lang, value, backbone="tiny-xlmr", task="ner", seed=1, vocab_size=None):
    stages = {"backbone": {"kind": "backbone", "arch": ARCH_OF[backbone], "name": backbone}}
    if vocab_size is not None:
        stages["target/embeddings/tokenizer"] = {"kind": "vocab_search", "vocab_size": vocab_size}
    return ResultRecord(method=method, backbone=backbone, task=task, lang=lang, seed=seed, metric="f1",
                        value=value, stages=stages, config_hash="x", versions={"seqeval": "1.2.2"})


def manifest(methods=("zero_shot", "unibridge"), targets=("amh", "ang"), selected=None, failed=None,
             hyperparameters=None, threshold=5.0):
    hyper = hyperparameters or {m: {"vocab": {"threshold": threshold}} for m in methods}
    jobs = selected if selected is not None else [
        f"{m}/tiny-xlmr/ner/{lang}/seed1" for m in methods for lang in targets]
    return RunManifest(suite="synthetic", backbones={"tiny-xlmr": "xlmr"}, tasks={"ner": tuple(targets)},
                       seeds=(1,), hyperparameters=hyper, selected=tuple(jobs), failed=failed or {},
                       finished="2026-01-01T00:00:00+00:00")


def workdir_with(path: Path, records, run_manifest=None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / RESULTS_FILE).write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    if run_manifest is not None:
        write_manifest(path, run_manifest)
    return path


def cells_of(table, label):
    return next(row for row in table.rows if row.label == label).cells


# --- declarations -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", TABLE_SPECS, ids=lambda s: s.name)
def test_every_declared_row_and_column_is_the_papers(spec):
    paper = paper_table(spec.number)
    for row in spec.rows:
        paper.row(row.label)  # raises when the paper has no such row
    if spec.languages and spec.aggregate != "mean_std":
        assert tuple(PAPER_COLUMN_CODES.get(c, c) for c in paper.columns) == spec.languages
    assert {type(row) for row in paper.rows} == ({PaperRow} if not spec.is_hyperparameters else
                                                 {type(paper.rows[0])})


def test_every_table_is_registered_under_its_file_stem():
    from harness.report.catalog import TABLES

    assert [TABLES.get(spec.name) for spec in TABLE_SPECS] == list(TABLE_SPECS)
    assert [spec.number for spec in TABLE_SPECS] == list(range(1, 24))


def test_settings_paths_exist_in_the_method_configs_and_defaults_match_the_paper():
    from baselines.zero_shot import ZeroShotConfig
    from harness.methods.unibridge.method import UniBridgeConfig

    configs = {"unibridge": UniBridgeConfig().model_dump(mode="json"),
               "zero_shot": ZeroShotConfig().model_dump(mode="json")}
    run = RunData((), manifest(methods=("unibridge", "zero_shot"), hyperparameters=configs))
    table6 = fill(table_spec(6), run)
    assert [float(r.ours) for r in table6.rows] == [float(r.paper) for r in table6.rows]
    for spec in TABLE_SPECS:
        if spec.is_hyperparameters:
            assert all(isinstance(r, Setting) for r in spec.rows)
            assert all(row.ours is not None for row in fill(spec, run).rows)


def test_a_capped_setting_says_so_and_a_method_not_run_is_footnoted():
    hyper = {"unibridge": {"adaptation": {"epochs": 50.0, "max_steps": 4}}}
    table = fill(table_spec(8), RunData((), manifest(hyperparameters=hyper)))
    epochs = next(r for r in table.rows if r.label == "Number of epochs trained")
    assert epochs.ours == "50.0 (capped at 4 steps)"
    table10 = fill(table_spec(10), RunData((), manifest(hyperparameters=hyper)))
    assert all(r.ours is None for r in table10.rows)
    assert table10.footnotes == ("not run: method zero_shot is not in suite synthetic",)


# --- cells --------------------------------------------------------------------------------------

def test_several_seeds_give_mean_and_sample_std_as_numpy():
    values = [41.0, 47.5, 44.25]
    run = RunData(tuple(record("unibridge", "amh", v, seed=s) for s, v in enumerate(values, 1)), manifest())
    cell = cells_of(fill(table_spec(1), run), "UniBridge (XLM-R)")[0]
    assert cell.mean == pytest.approx(np.mean(values)) and cell.std == pytest.approx(np.std(values, ddof=1))
    assert cell.n == 3 and cell.delta == pytest.approx(np.mean(values) - 49.6)
    assert "44.25 ± 3.25" in render(fill(table_spec(1), run), "md")


def test_table5_is_mean_and_std_over_the_14_languages_and_needs_all_of_them():
    langs = table_spec(5).languages
    scores = np.linspace(10, 62, len(langs))
    records = [record("unibridge", lang, float(v)) for lang, v in zip(langs, scores)]
    table = fill(table_spec(5), RunData(tuple(records), manifest(targets=langs)))
    xlmr, bert = cells_of(table, "UniBridge")
    assert xlmr.mean == pytest.approx(scores.mean()) and xlmr.std == pytest.approx(scores.std(ddof=1))
    assert (xlmr.paper, xlmr.paper_std) == (45.95, 6.28)
    assert bert.mean is None and bert.missing is not None
    partial = fill(table_spec(5), RunData(tuple(records[:-1]), manifest(targets=langs)))
    cell = cells_of(partial, "UniBridge")[0]
    assert cell.mean is None and "13 have a result" in partial.footnotes[cell.missing - 1]


def test_missing_cells_say_why_and_are_not_averaged():
    failed = {"unibridge/tiny-xlmr/ner/ang/seed1": "evaluation: CUDA out of memory"}
    selected = ["zero_shot/tiny-xlmr/ner/amh/seed1", "unibridge/tiny-xlmr/ner/amh/seed1",
                "unibridge/tiny-xlmr/ner/ang/seed1"]
    run = RunData((record("zero_shot", "amh", 30.0), record("unibridge", "amh", 40.0)),
                  manifest(selected=selected, failed=failed))
    table = fill(table_spec(1), run)
    why = {row.label: [table.footnotes[c.missing - 1] if c.missing else None for c in row.cells[:3]]
           for row in table.rows}
    assert why["XLM-R"] == [None, "filtered out: not selected by the last run's --only",
                            "not run: not a ner target language of suite synthetic"]
    assert why["UniBridge (XLM-R)"][1] == "failed: evaluation: CUDA out of memory"
    assert why["MAD-X (XLM-R)"][0] == "not run: method mad_x is not in suite synthetic"
    average = next(r for r in table.rows if r.label == "UniBridge (XLM-R)").average
    assert average.mean is None and average.paper == 45.95
    assert "no average: a language has no result" in table.footnotes


def test_a_row_average_over_every_language_is_the_mean():
    langs = table_spec(3).languages
    records = tuple(record("unibridge", lang, float(i), task="pos") for i, lang in enumerate(langs))
    run = RunData(records, RunManifest(**{**manifest().model_dump(), "tasks": {"pos": langs}}))
    average = next(r for r in fill(table_spec(3), run).rows if r.method == "unibridge").average
    assert average.mean == pytest.approx(np.mean(range(len(langs)))) and average.paper == 67.81


def test_tables_carry_the_papers_notes_and_its_disagreeing_averages():
    notes = fill(table_spec(14), RunData((), None)).notes
    assert any(n.startswith("paper, lang2vec (XLM-R), pbt: lang2vec lacks Pashto") for n in notes)
    assert any("lang2vec (XLM-R): printed average 38.03, mean of its cells 41.029" in n for n in notes)
    assert fill(table_spec(2), RunData((), None)).notes == ()


def test_report_command_imports_neither_torch_nor_transformers():
    code = ("import sys, harness.cli.report, harness.report.write; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.stdout.strip() == "[]"


def test_table20_shows_the_vocabulary_size_found():
    run = RunData((record("unibridge", "amh", 1.0, vocab_size=19500),
                   record("unibridge", "amh", 2.0, backbone="tiny-mbert", vocab_size=19500)), manifest())
    cell = fill(table_spec(20), run).rows[0].cells[0]  # one search, whichever backbone used it
    assert (cell.mean, cell.std, cell.n, cell.paper, cell.delta) == (19500, None, 1, 19000, 500)


# --- marks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, expected", [
    ([50.0, 50.0, 40.0, 40.0, 30.0], {0: "best", 1: "best", 2: "second", 3: "second"}),
    ([50.001, 49.999, 10.0], {0: "best", 1: "best", 2: "second"}),  # equal as printed
    ([None, 12.0, 30.0], {2: "best", 1: "second"}),
    ([7.0, 7.0], {0: "best", 1: "best"}),
    ([None, 12.0], {}),
])
def test_column_marks_with_ties(values, expected):
    assert column_marks(values) == expected


def test_marks_are_per_backbone_family_and_rendered():
    records = (record("zero_shot", "amh", 30.0, backbone="tiny-mgpt"), record("unibridge", "amh", 30.0,
               backbone="tiny-mgpt"), record("mad_x", "amh", 20.0, backbone="tiny-mgpt"),
               record("unibridge", "amh", 5.0, backbone="tiny-mbart"), record("mad_x", "amh", 9.0,
               backbone="tiny-mbart"))
    table = fill(table_spec(23), RunData(records, None))
    marks = {row.label: row.cells[0].mark for row in table.rows}
    assert marks == {"mGPT": "best", "MAD-X (mGPT)": "second", "UniBridge (mGPT)": "best",
                     "mBART": None, "MAD-X (mBART)": "best", "UniBridge (mBART)": "second"}
    assert "**30.00**" in render(table, "md") and r"\underline{5.00}" in render(table, "tex")
    assert "<b>9.00</b>" in render(table, "html")


def _paper_records(spec):
    """One record per cell the paper prints, so that our marks can be checked against its print."""
    backbone_of = {arch: name for name, arch in ARCH_OF.items()}
    paper = paper_table(spec.number)
    return tuple(record(row.method, lang, value, backbone=backbone_of[row.arch], task=spec.task)
                 for row in spec.rows for lang, value in zip(spec.languages, paper.row(row.label).cells))


MARKED = [s for s in TABLE_SPECS if s.value == "metric" and s.aggregate != "mean_std" and s.task]


@pytest.mark.parametrize("spec", MARKED, ids=lambda s: s.name)
def test_marks_on_the_papers_own_numbers_agree_with_its_print(spec):
    """Every cell the paper underlines (its Average too) is our second; two-row tables mark the best only."""
    table = fill(spec, RunData(_paper_records(spec), None))
    for row in table.rows:
        marks = dict(zip(table.headers, (cell.mark for cell in row.shown_cells)))
        for column in paper_table(spec.number).row(row.label).underlined:
            assert marks[column] == "second", (row.label, column)
    seconds = [cell for row in table.rows for cell in row.shown_cells if cell.mark == "second"]
    assert (not seconds) == (spec.number in (14, 15, 21, 22))
    for j in range(len(table.headers)):  # every column with two values has a best
        assert any(row.shown_cells[j].mark == "best" for row in table.rows)


def test_two_row_tables_bold_the_winner_and_leave_the_loser_plain():
    run = RunData((record("unibridge_lang2vec", "amh", 30.0), record("unibridge", "amh", 40.0),
                   record("unibridge_lang2vec", "ang", 50.0), record("unibridge", "ang", 20.0)), None)
    rows = {row.label: row for row in fill(table_spec(14), run).rows}
    assert [c.mark for c in rows["lang2vec (XLM-R)"].cells[:2]] == [None, "best"]
    assert [c.mark for c in rows["UniBridge (XLM-R)"].cells[:2]] == ["best", None]
    assert "<u>" not in render(fill(table_spec(14), run), "md")


def test_the_average_column_is_marked():
    table = fill(table_spec(23), RunData(_paper_records(table_spec(23)), None))
    averages = {row.label: row.average.mark for row in table.rows}
    assert averages == {"mGPT": None, "MAD-X (mGPT)": "second", "UniBridge (mGPT)": "best",
                        "mBART": None, "MAD-X (mBART)": "second", "UniBridge (mBART)": "best"}
    assert "<u>57.83</u>" in render(table, "md")


# --- formats: golden files ----------------------------------------------------------------------

def golden_run() -> RunData:
    records = [record("zero_shot", "amh", 30.0), record("unibridge", "amh", 40.0),
               record("unibridge", "amh", 42.0, seed=2), record("mad_x", "amh", 40.0),
               record("unibridge", "ang", 50.0), record("zero_shot", "ang", 50.0)]
    hyper = {"unibridge": {"vocab": {"start": 200, "max_size": 1500, "step": 100, "threshold": 5.0}}}
    return RunData(tuple(records), manifest(methods=("zero_shot", "mad_x", "unibridge"), hyperparameters={
        **{m: {} for m in ("zero_shot", "mad_x")}, **hyper}))


def _check_golden(text: str, name: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("number, fmt", [(1, "md"), (1, "tex"), (1, "csv"), (6, "md"), (5, "csv")])
def test_golden(number, fmt):
    _check_golden(render(fill(table_spec(number), golden_run()), fmt), f"table{number:02d}.{fmt}")


@pytest.mark.parametrize("number", [14, 21, 23])
def test_golden_marks_on_the_papers_numbers(number):
    """Our marking of the paper's own cells: best only in two-row tables, the Average column ranked."""
    table = fill(table_spec(number), RunData(_paper_records(table_spec(number)), None))
    _check_golden(render(table, "md"), f"table{number:02d}-paper-cells.md")


def test_csv_is_plain_numbers_one_line_per_cell():
    rows = list(csv.DictReader(io.StringIO(render(fill(table_spec(1), golden_run()), "csv"))))
    assert len(rows) == 3 * 15
    amh = next(r for r in rows if r["row"] == "UniBridge (XLM-R)" and r["column"] == "amh")
    assert (float(amh["ours"]), float(amh["ours_std"])) == (41.0, np.std([40, 42], ddof=1))
    assert (amh["n"], amh["mark"]) == ("2", "best")


# --- commands, figures, page ----------------------------------------------------------------------

def test_report_command_writes_tables_figures_and_page(tmp_path):
    run = golden_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    result = CliRunner().invoke(cli, ["report", str(work)])
    assert result.exit_code == 0, result.output
    names = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()}
    assert {"tables/table01.md", "tables/table01.tex", "tables/table01.csv", "tables/table06.md",
            "tables/results-ner.md", "figures/languages-ner.png", "figures/languages-ner.pdf",
            "figures/methods-table01.png", "figures/methods-table01.pdf",
            "figures/figure3.png", "figures/figure3.pdf", "report.html"} <= names
    assert "tables/table03.md" not in names  # no POS result: Table 3 not written
    page = (work / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "seqeval 1.2.2" in page and "synthetic" in page
    assert read_manifest(work).suite == "synthetic"


def test_report_command_tables_and_format_options(tmp_path):
    work = workdir_with(tmp_path / "run", golden_run().records)
    result = CliRunner().invoke(cli, ["report", str(work), "--tables", "1,5", "--format", "md"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (work / "tables").iterdir()) == ["table01.md", "table05.md"]
    bad = CliRunner().invoke(cli, ["report", str(work), "--tables", "1,24"])
    assert bad.exit_code != 0 and "no table 24" in bad.output


def test_compare_two_runs(tmp_path):
    a = workdir_with(tmp_path / "a", [record("unibridge", "amh", 40.0), record("unibridge", "ang", 10.0)])
    b = workdir_with(tmp_path / "b", [record("unibridge", "amh", 43.5, seed=1),
                                      record("unibridge", "amh", 44.5, seed=2)])
    rows = {row[3]: row[4:7] for row in compare_runs(a, b).rows}
    assert rows == {"amh": (40.0, 44.0, 4.0), "ang": (10.0, None, None)}
    result = CliRunner().invoke(cli, ["report", "--compare", str(a), str(b)])
    assert result.exit_code == 0 and "B − A" in result.output and "4" in result.output


def test_compare_labels_two_workdirs_of_the_same_name_by_their_parents(tmp_path):
    a = workdir_with(tmp_path / "old" / "w", [record("unibridge", "amh", 40.0)])
    b = workdir_with(tmp_path / "new" / "w", [record("unibridge", "amh", 41.0)])
    assert compare_runs(a, b).headers[4:6] == ("A: old/w", "B: new/w")


def test_figure3_means_per_threshold_from_merged_runs(tmp_path):
    runs = [workdir_with(tmp_path / f"eps{eps}", [record("unibridge", "amh", 40.0 - eps),
                                                   record("unibridge", "ang", 20.0 - eps)],
                         manifest(threshold=float(eps))) for eps in (5, 10, 15)]
    run = RunData.load(runs[0], runs[1:])
    assert figure3_points(run) == {"xlmr": {5.0: 25.0, 10.0: 20.0, 15.0: 15.0}}
    assert sorted(p.name for p in write_figures(run, tmp_path / "fig")) == [
        "figure3.pdf", "figure3.png", "languages-ner.pdf", "languages-ner.png", "methods-table01.pdf",
        "methods-table01.png"]


def test_manifest_of_the_smoke_suite_plan(tmp_path):
    from harness.cli.common import load_plan
    from harness.report.manifest import manifest_of

    plan = load_plan(Path(__file__).resolve().parents[1] / "suites" / "smoke.yaml", check_data=False)
    jobs = [job for job in plan.jobs if job.lang == "amh"]
    made = manifest_of(plan, jobs, {jobs[0].job_id: "evaluation: boom"})
    assert made.backbones == {"tiny-xlmr": "xlmr", "tiny-mbert": "bert", "tiny-mgpt": "gpt2",
                              "tiny-mbart": "mbart"}
    assert made.hyperparameters["unibridge"]["vocab"]["start"] == 200  # the suite's override
    assert made.hyperparameters["unibridge_no_kl"]["adaptation"]["beta"] == 0.0  # the preset
    assert made.selected == tuple(job.job_id for job in jobs) and made.tasks["pos"] == ("tgl",)
    write_manifest(tmp_path, made)
    assert read_manifest(tmp_path) == made
    assert made.why_missing(jobs[0].method, jobs[0].backbone, "ner", "amh") == "failed: evaluation: boom"


def test_run_writes_the_report(tmp_path):
    """Through ``write_report`` as ``run`` calls it: nothing but records and run.json are read."""
    run = golden_run()
    work = workdir_with(tmp_path / "run", run.records, run.manifest)
    written = write_report(work)
    assert work / "report.html" in written and work / "tables" / "table01.tex" in written


def test_task_chart_draws_a_zero_unlike_a_missing_score_and_keeps_the_legend_off_the_bars():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = RunData((record("unibridge", "amh", 0.0), record("unibridge", "ang", 20.0)), manifest())
    row = next(r for r in fill(table_spec(1), run).rows if r.method == "unibridge")
    figure, ax = plt.subplots(figsize=(10, 3))
    draw_panel(ax, row, paper_table(1).row(row.label), paper_table(1).columns)
    figure.canvas.draw()
    labels = [(t.get_text(), round(t.get_position()[0], 1)) for t in ax.texts]
    assert labels[0] == ("0", -0.2) and {text for text, _ in labels[1:]} == {"n/a"} and len(labels) == 13
    zero = [line for line in ax.lines if list(line.get_ydata()) == [0, 0]]
    assert len(zero) == 1 and zero[0].get_linewidth() >= 3
    assert zero[0].get_xdata()[0] < -0.2 < zero[0].get_xdata()[1]  # under amh's bar of ours
    ours = ax.containers[0]
    assert [round(bar.get_x() + bar.get_width() / 2, 1) for bar in ours] == [-0.2, 0.8]  # no bar for n/a
    legend, axes_box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= axes_box.x1  # beside the panel, over no bar
    plt.close(figure)
    assert chart_title(row) == "UniBridge on tiny-xlmr (XLM-R family)"


def test_page_header_names_the_device_and_the_seeds():
    from harness.report.page import provenance

    gpu = RunManifest(**{**manifest().model_dump(), "device": "cuda (NVIDIA H200)"})
    seeds = (record("unibridge", "amh", 1.0), record("unibridge", "amh", 2.0, seed=2))
    facts = provenance(RunData(seeds, gpu))
    assert (facts["device"], facts["seeds"]) == ("cuda (NVIDIA H200)", "1, 2 (suite: 1)")
    facts = provenance(RunData((record("unibridge", "amh", 1.0),), manifest()))
    assert (facts["device"], facts["seeds"]) == ("not recorded (run.json predates it)", "1")
