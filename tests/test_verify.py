"""``unibridge-bench verify`` (issue 21.5): every kind of damage is listed with what depends on
it, --repair removes exactly the damaged entries, and the next run rebuilds only those, to the
same records. ``run --rerun`` checks what it will read before it deletes anything."""

import json

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.manifest import CacheError
from harness.planning.plan import Plan
from harness.run.integrity import check_workdir
from harness.run.runner import RunOptions, run_jobs
from harness.suite.schema import Suite
from tests.test_runner import LOG, FakeConfig, FakeMethod, Prepare

TARGETS = ["amh", "khm", "kan", "tel", "tam", "mar"]


def six_target_plan(tmp_path) -> Plan:
    suite = Suite.model_validate({
        "name": "fake", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": TARGETS, "sources": ["eng"], "data": {"path": str(tmp_path)}}},
        "methods": {"fake": {}}, "monolingual": {"data": {"path": str(tmp_path)}},
    })
    return Plan(suite, {"fake": FakeMethod("fake", FakeConfig())}, suite.jobs())


def records_without_timings(workdir):
    lines = (workdir / "results.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def evaluation_entry(workdir, plan, lang):
    [job] = [job for job in plan.jobs if job.lang == lang]
    return workdir / "cache" / "evaluation" / plan.build(job).key


@pytest.fixture
def damaged_run(tmp_path):
    """A finished run with four entries damaged, each another way; returns what was damaged."""
    plan, workdir = six_target_plan(tmp_path), tmp_path / "run"
    run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    before = records_without_timings(workdir)
    prepare = workdir / "cache" / "prepare" / Prepare(FakeConfig(task="ner")).key
    (prepare / "value.txt").write_text("11")                                   # a file changed
    (evaluation_entry(workdir, plan, "amh") / "manifest.json").write_text("{")  # a manifest
    (evaluation_entry(workdir, plan, "khm") / "metrics.json").unlink()          # a file removed
    (evaluation_entry(workdir, plan, "kan") / "notes.txt").write_text("mine")   # a stray file
    for work in ("spm_trainings/0123abcd/4567ef89/8000", "prepare/.partial-" + "0" * 64):
        (workdir / "cache" / work).mkdir(parents=True)  # no entries: left alone
    damaged = {prepare, *(evaluation_entry(workdir, plan, lang) for lang in ("amh", "khm", "kan"))}
    return plan, workdir, before, damaged


def test_verify_lists_exactly_the_damaged_entries_and_what_depends_on_them(damaged_run):
    plan, workdir, _, damaged = damaged_run
    done = CliRunner().invoke(cli, ["verify", str(workdir)])
    assert done.exit_code == 1, done.output
    listed = {line.split()[1] for line in done.output.splitlines() if line.startswith("damaged ")}
    assert listed == {str(path) for path in damaged}
    lines = done.output.splitlines()
    prepare_line = lines.index(next(line for line in lines if "(prepare)" in line))
    assert "value.txt differs" in lines[prepare_line]
    # amh's evaluation is built on it too, but its unreadable manifest cannot say so
    assert lines[prepare_line + 1].strip().startswith("built on it: 5 evaluation; jobs: fake/")
    assert "and 2 more" in lines[prepare_line + 1] and "/amh/" not in lines[prepare_line + 1]
    assert "7 cache entries checked: 4 damaged" in lines[-1] and "--repair" in lines[-1]
    problems = {entry.path.name: entry.problem for entry in check_workdir(workdir).damaged}
    assert problems[evaluation_entry(workdir, plan, "amh").name] == "manifest.json is not readable JSON " \
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    assert problems[evaluation_entry(workdir, plan, "khm").name] == "metrics.json is missing"
    assert "notes.txt is a stray file" in problems[evaluation_entry(workdir, plan, "kan").name]


def test_repair_then_run_rebuilds_only_the_damaged_entries_to_the_same_records(damaged_run):
    plan, workdir, before, damaged = damaged_run
    done = CliRunner().invoke(cli, ["verify", str(workdir), "--repair"])
    assert done.exit_code == 0 and "Removed them" in done.output, done.output
    assert not any(path.exists() for path in damaged)
    LOG.clear()
    report = run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    assert report.failures == [] and report.pending == 4
    assert sorted(LOG) == ["evaluate:amh", "evaluate:kan", "evaluate:khm", "prepare:ner"]
    assert records_without_timings(workdir) == before
    again = CliRunner().invoke(cli, ["verify", str(workdir)])
    assert again.exit_code == 0 and again.output == "7 cache entries checked: 0 damaged.\n"


def test_an_unreadable_record_file_is_listed_and_repaired(tmp_path):
    plan, workdir = six_target_plan(tmp_path), tmp_path / "run"
    run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    record = sorted((workdir / "results").glob("*.json"))[0]
    record.write_text("garbage")
    done = CliRunner().invoke(cli, ["verify", str(workdir)])
    assert done.exit_code == 1 and f"unreadable record {record}" in done.output
    CliRunner().invoke(cli, ["verify", str(workdir), "--repair"])
    assert not record.exists() and len((workdir / "results.jsonl").read_text().splitlines()) == 5


def test_verify_of_a_folder_that_is_no_workdir_is_one_message(tmp_path):
    done = CliRunner().invoke(cli, ["verify", str(tmp_path)])
    assert done.exit_code == 2 and "no cache/ folder" in done.output
    assert "Traceback" not in done.output


def test_rerun_checks_what_it_reads_before_deleting_anything(tmp_path):
    plan, workdir = six_target_plan(tmp_path), tmp_path / "run"
    run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    prepare = workdir / "cache" / "prepare" / Prepare(FakeConfig(task="ner")).key
    (prepare / "value.txt").write_text("11")
    with pytest.raises(CacheError, match="verify .* --repair"):
        run_jobs(plan, plan.jobs, RunOptions(workdir, rerun=frozenset({"evaluation"}),
                                             progress=False))
    assert all(evaluation_entry(workdir, plan, lang).is_dir() for lang in TARGETS)


@pytest.mark.slow
def test_verify_and_repair_on_a_real_run(reduced_run, copy_workdir):
    """Real stages (the vocabulary search's training cache included): clean, then one damage.

    On a copy of the session's finished run of the reduced suite (``tests/conftest.py``)."""
    from tests.shared_runs import cli

    suite, shared, done = reduced_run
    assert done.returncode == 0, done.stderr
    workdir = copy_workdir(shared)
    before = records_without_timings(workdir)
    clean = cli("verify", workdir)
    assert clean.returncode == 0 and clean.stdout.endswith(" damaged.\n"), clean.stdout
    [backbone] = [path for path in (workdir / "cache" / "backbone").iterdir() if path.is_dir()]
    weights = backbone / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    started = {path: json.loads(path.read_text())["started"]
               for path in (workdir / "cache").glob("*/*/manifest.json") if path.parent != backbone}
    damaged = cli("verify", workdir)
    assert damaged.returncode == 1
    assert [line.split()[1] for line in damaged.stdout.splitlines()
            if line.startswith("damaged ")] == [str(backbone)]
    assert "evaluation" in damaged.stdout and "zero_shot/tiny-xlmr/ner/amh/seed1" in damaged.stdout
    assert cli("verify", workdir, "--repair").returncode == 0 and not backbone.exists()
    assert cli("run", suite, "--workdir", workdir, "--device", "cpu").returncode == 0
    assert backbone.is_dir() and records_without_timings(workdir) == before
    assert {path: json.loads(path.read_text())["started"] for path in started} == started
