"""Damaged result records (issue 21.4): results.jsonl is rebuilt from results/, and a record file
that cannot be read is named in one line and left out while every other record is kept."""

import json
import logging

from click.testing import CliRunner

from harness.cli.main import cli
from harness.run.records import RESULTS_FILE, load_records, read_results, record_files
from harness.run.runner import RunOptions, run_jobs
from tests.test_runner import make_plan

GARBAGE = b"\x00{not json at all\n"


def finished_run(tmp_path):
    plan = make_plan(tmp_path)
    workdir = tmp_path / "run"
    assert run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False)).failures == []
    return plan, workdir


def test_a_garbage_line_in_results_jsonl_is_rebuilt_from_the_record_files(tmp_path):
    _, workdir = finished_run(tmp_path)
    results = workdir / RESULTS_FILE
    intact = results.read_bytes()
    results.write_bytes(intact[:40] + GARBAGE + intact[40:])
    records = load_records(workdir)
    assert len(records) == 3 and results.read_bytes() == intact


def test_report_on_a_garbage_results_jsonl_writes_the_tables_without_a_traceback(tmp_path):
    _, workdir = finished_run(tmp_path)
    results = workdir / RESULTS_FILE
    intact = results.read_bytes()
    results.write_bytes(GARBAGE + intact)
    done = CliRunner().invoke(cli, ["report", str(workdir), "--format", "csv"])
    assert done.exit_code == 0, done.output
    assert "Traceback" not in done.output and "validation error" not in done.output
    assert results.read_bytes() == intact


def test_without_record_files_a_bad_line_is_named_and_the_others_kept(tmp_path, caplog):
    _, workdir = finished_run(tmp_path)
    results = workdir / RESULTS_FILE
    lines = results.read_text().splitlines()
    results.write_text("\n".join([lines[0], '{"method": 1}', *lines[1:]]) + "\n")
    with caplog.at_level(logging.WARNING):
        records = read_results(results)
    assert [r.lang for r in records] == [json.loads(line)["lang"] for line in lines]
    [warning] = caplog.messages
    assert f"{results}, line 2: not a result record" in warning and "\n" not in warning


def test_a_garbage_record_of_a_job_outside_only_is_named_and_the_run_goes_on(tmp_path, caplog):
    plan, workdir = finished_run(tmp_path)
    others = [path for path in record_files(workdir) if "__amh__" not in path.name]
    for path in others:
        path.write_bytes(GARBAGE)
    amh = [job for job in plan.jobs if job.lang == "amh"]
    with caplog.at_level(logging.WARNING):
        report = run_jobs(plan, amh, RunOptions(workdir, progress=False))
    assert report.failures == []
    assert [r.lang for r in read_results(workdir / RESULTS_FILE)] == ["amh"]
    named = sorted(m.split(":")[0] for m in caplog.messages if "not a readable result record" in m)
    assert named == sorted(str(path) for path in others)


def test_a_garbage_record_of_a_selected_job_is_written_again(tmp_path, caplog):
    plan, workdir = finished_run(tmp_path)
    intact = (workdir / RESULTS_FILE).read_bytes()
    record_files(workdir)[0].write_bytes(GARBAGE)
    run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    assert (workdir / RESULTS_FILE).read_bytes() == intact


def test_report_rebuilds_a_deleted_results_jsonl_from_the_record_files(tmp_path):
    _, workdir = finished_run(tmp_path)
    results = workdir / RESULTS_FILE
    intact = results.read_bytes()
    results.unlink()
    done = CliRunner().invoke(cli, ["report", str(workdir), "--format", "csv"])
    assert done.exit_code == 0, done.output
    assert results.read_bytes() == intact


def test_a_record_keeps_the_thread_counts_its_stages_ran_with(tmp_path, monkeypatch):
    monkeypatch.setenv("UNIBRIDGE_THREADS", "2")
    _, workdir = finished_run(tmp_path)
    records = load_records(workdir)
    assert records and all(record.threads for record in records)
    assert {count for record in records for counts in record.threads.values() for count in counts} == {2}
