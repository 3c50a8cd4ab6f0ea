"""A warm re-run (every stage cached) reads no more than it must, and renders nothing unchanged.

What it must still do is tested beside the runner (tests/test_runner.py: a deleted upstream is
rebuilt, --rerun recomputes) and the cache (tests/test_verify.py, test_graph.py: a damaged entry
is named). Its wall time is measured in benchmarks/smoke.py, never asserted here.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import harness.core.origins as origins
import harness.report.unchanged as unchanged
import harness.report.write as report_write
from harness.core.manifest import MANIFEST
from harness.report.unchanged import INPUTS_FILE
from harness.report.write import write_report
from harness.run.records import aggregate, read_results, record_path, write_record
from harness.run.runner import RunOptions, run_jobs
from tests.shared_runs import SELECTION
from tests.test_report import manifest, record, workdir_with
from tests.test_runner import Prepare, make_plan

ROOT = Path(__file__).resolve().parents[1]


def test_a_warm_run_reads_each_manifest_and_summary_once(tmp_path, monkeypatch):
    plan = make_plan(tmp_path)  # three jobs sharing one prepare stage
    options = RunOptions(tmp_path / "run", progress=False)
    run_jobs(plan, plan.jobs, options)
    results = [*(tmp_path / "run" / "results").iterdir(), tmp_path / "run" / "results.jsonl"]
    before = stamps(results)
    reads: Counter = Counter()
    read_text = Path.read_text

    def counting(path, *args, **kwargs):
        if path.name == MANIFEST:
            reads[path.parent.name] += 1
        return read_text(path, *args, **kwargs)

    summaries = Counter()
    summary = Prepare.summary

    def counted_summary(stage, artifact):
        summaries[stage.key] += 1
        return summary(stage, artifact)

    monkeypatch.setattr(Path, "read_text", counting)
    monkeypatch.setattr(Prepare, "summary", counted_summary)
    report = run_jobs(make_plan(tmp_path), plan.jobs, options)
    assert report.pending == 0 and report.cached == 4
    assert len(reads) == 4 and set(reads.values()) == {1}  # 3 evaluations + the shared prepare
    assert list(summaries.values()) == [1]
    assert stamps(results) == before  # the same records: neither they nor results.jsonl rewritten


def test_a_changed_record_is_written_again(tmp_path):
    first = record("unibridge", "amh", 10.0)
    path = write_record(tmp_path, first)
    results = aggregate(tmp_path)
    before = stamps([path, results])
    write_record(tmp_path, first)
    aggregate(tmp_path)
    assert stamps([path, results]) == before
    write_record(tmp_path, record("unibridge", "amh", 11.0))
    aggregate(tmp_path)
    assert json.loads(record_path(tmp_path, first.job_id).read_text())["value"] == 11.0
    assert [r.value for r in read_results(results)] == [11.0]


def report_workdir(tmp_path: Path, value: float) -> Path:
    workdir = workdir_with(tmp_path / "run", [], manifest())
    for rec in (record("unibridge", "amh", value), record("zero_shot", "amh", 7.0)):
        write_record(workdir, rec)
    return workdir


def stamps(paths) -> dict:
    return {path: path.stat().st_mtime_ns for path in paths}


def test_an_unchanged_report_is_kept_and_a_changed_result_renders_it_again(tmp_path, monkeypatch):
    workdir = report_workdir(tmp_path, 12.5)
    written = write_report(workdir, keep_unchanged=True)
    assert (workdir / INPUTS_FILE).is_file() and workdir / "report.html" in written
    before = stamps(written)
    rendered = []
    real = report_write._render_report

    def counted(*args):
        rendered.append(1)
        return real(*args)

    monkeypatch.setattr(report_write, "_render_report", counted)
    # run.json's finish time is no input: a warm run writes a new one
    (workdir / "run.json").write_text((workdir / "run.json").read_text().replace("2026-01-01", "2026-02-02"))
    assert write_report(workdir, keep_unchanged=True) == written
    assert rendered == [] and stamps(written) == before
    write_record(workdir, record("unibridge", "amh", 42.25))
    again = write_report(workdir, keep_unchanged=True)
    assert rendered == [1] and again == written
    assert "42.25" in (workdir / "tables" / "results-ner.md").read_text()


def test_a_changed_plugin_table_renders_the_report_again(tmp_path, monkeypatch):
    monkeypatch.setitem(origins._ENTRY_ORIGINS, ("tables", "mine"), origins.Origin("mine.py", "sha256:a"))
    assert unchanged.plugin_table_stamps()["mine"] == "sha256:a"  # beside any other test's plugins
    monkeypatch.delitem(origins._ENTRY_ORIGINS, ("tables", "mine"))  # no such table to render
    workdir = report_workdir(tmp_path, 12.5)
    monkeypatch.setattr(unchanged, "plugin_table_stamps", lambda: {})
    write_report(workdir, keep_unchanged=True)
    rendered = []
    real = report_write._render_report
    monkeypatch.setattr(report_write, "_render_report", lambda *args: rendered.append(1) or real(*args))
    write_report(workdir, keep_unchanged=True)
    assert rendered == []
    monkeypatch.setattr(unchanged, "plugin_table_stamps", lambda: {"mine": "sha256:b"})
    write_report(workdir, keep_unchanged=True)
    assert rendered == [1]


@pytest.mark.parametrize("damage", ["delete", "edit"])
def test_a_missing_or_edited_report_file_renders_it_again(tmp_path, damage):
    workdir = report_workdir(tmp_path, 12.5)
    written = write_report(workdir, keep_unchanged=True)
    table = workdir / "tables" / "results-ner.md"
    original = table.read_text()
    if damage == "delete":
        table.unlink()
    else:
        table.write_text("edited by hand")
    assert write_report(workdir, keep_unchanged=True) == written
    assert table.read_text() == original


def test_the_report_command_renders_whatever_its_inputs(tmp_path):
    workdir = report_workdir(tmp_path, 12.5)
    page = write_report(workdir)[-1]
    stamp = page.stat().st_mtime_ns
    write_report(workdir)
    assert page.stat().st_mtime_ns != stamp


@pytest.mark.slow
def test_a_warm_cli_run_imports_no_model_library(logged_selection_run, copy_workdir):
    """A cold run of two zero-shot jobs (the session's, ``tests/conftest.py``), then the same
    command warm, on a copy of its workdir, in a fresh interpreter: no torch in it."""
    *_, code, shared = logged_selection_run
    assert code == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = ["run", "suites/smoke.yaml", "--workdir", str(copy_workdir(shared)), *SELECTION]
    probe = ("import sys\nfrom harness.cli.main import cli\n"
             f"cli({command!r}, standalone_mode=False)\n"
             "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'adapters', 'matplotlib') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    assert "0 run, 0 failed, 0 not run because an input failed" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"
