"""The runner on a fake method: dedup of shared stages, records, and resume after a kill."""

import json
import multiprocessing
import shutil
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from harness.core.graph import Stage
from harness.methods.base import Method
from harness.planning.plan import Plan
from harness.run.records import read_results
from harness.run.runner import JobGraph, RunOptions, UnknownStageKindError, run_jobs
from harness.suite.schema import Suite

LOG: list[str] = []


class FakeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    task: str = ""
    lang: str = ""
    kill_on: str = ""


class Prepare(Stage):
    kind = "prepare"

    def run(self, ctx, inputs, out):
        LOG.append(f"prepare:{self.config.task}{self.config.lang}")
        (out / "value.txt").write_text("10")

    def summary(self, artifact):
        return {"value": float((artifact / "value.txt").read_text()), "lang": self.config.lang}


class Evaluate(Stage):
    kind = "evaluation"

    def run(self, ctx, inputs, out):
        if Path(self.config.kill_on).name == self.config.lang and Path(self.config.kill_on).exists():
            raise KeyboardInterrupt  # like a kill: not caught by keep_going
        LOG.append(f"evaluate:{self.config.lang}")
        base = float((inputs["prep"] / "value.txt").read_text())
        value = base + len(self.config.lang) + ctx.seed
        (out / "metrics.json").write_text(json.dumps({"metric": "f1", "value": value}))


class FakeMethod(Method):
    Config = FakeConfig

    def build(self, job, env):
        prep = Prepare(FakeConfig(task=job.task))
        cfg = FakeConfig(task=job.task, lang=job.lang, kill_on=self.config.kill_on)
        return Evaluate(cfg, seed=job.seed, prep=prep)


def make_plan(tmp_path, kill_on=""):
    suite = Suite.model_validate({
        "name": "fake", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh", "khm", "kan"], "sources": ["eng"],
                          "data": {"path": str(tmp_path)}}},
        "methods": {"fake": {}}, "monolingual": {"data": {"path": str(tmp_path)}},
    })
    return Plan(suite, {"fake": FakeMethod("fake", FakeConfig(kill_on=kill_on))}, suite.jobs())


def test_shared_stage_runs_once_and_records_are_written(tmp_path):
    LOG.clear()
    plan = make_plan(tmp_path)
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert report.failures == [] and report.pending == 4 and report.cached == 0
    assert LOG.count("prepare:ner") == 1
    records = read_results(tmp_path / "run" / "results.jsonl")
    assert {(r.lang, r.value) for r in records} == {("amh", 14.0), ("khm", 14.0), ("kan", 14.0)}
    assert all(r.config_hash and "torch" in r.versions for r in records)
    assert JobGraph.of(plan, plan.jobs).sharing()[Prepare(FakeConfig(task="ner")).key] == 3


def test_second_run_finds_everything_cached(tmp_path):
    LOG.clear()
    plan = make_plan(tmp_path)
    run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    LOG.clear()
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert LOG == [] and report.pending == 0 and report.cached == 4


def test_killed_run_resumes_without_redoing_finished_jobs(tmp_path):
    LOG.clear()
    kill_flag = tmp_path / "kan"  # jobs run in suite order amh, khm, kan: killed at the last
    kill_flag.write_text("")
    plan = make_plan(tmp_path, kill_on=str(kill_flag))
    with pytest.raises(KeyboardInterrupt):
        run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    finished = [entry for entry in LOG if entry.startswith("evaluate:")]
    records_dir = tmp_path / "run" / "results"
    assert len(list(records_dir.glob("*.json"))) == len(finished)  # no finished result lost
    kill_flag.unlink()
    LOG.clear()
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert "prepare:ner" not in LOG
    assert sorted(LOG) == sorted(f"evaluate:{lang}" for lang in ("amh", "khm", "kan")
                                 if f"evaluate:{lang}" not in finished)
    assert report.failures == []
    assert len(read_results(tmp_path / "run" / "results.jsonl")) == 3


def test_failed_stage_is_reported_and_others_still_run(tmp_path):
    class Broken(FakeMethod):
        def build(self, job, env):
            stage = super().build(job, env)
            if job.lang == "khm":
                stage.config = stage.config.model_copy(update={"lang": None})  # len(None) fails
            return stage

    LOG.clear()
    plan = make_plan(tmp_path)
    plan.methods["fake"] = Broken("fake", FakeConfig())
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert len(report.failures) == 1 and "TypeError" in report.failures[0].reason
    assert {r.lang for r in read_results(tmp_path / "run" / "results.jsonl")} == {"amh", "kan"}
    assert [(job.lang, "TypeError" in failure.reason) for job, failure in report.failed_jobs.items()] == [
        ("khm", True)]  # the job whose final stage failed, for the report's footnote


@pytest.mark.parametrize("kind", ["prepare", "evaluation"])
def test_rerun_of_a_kind_recomputes_it_and_what_is_built_on_it(tmp_path, kind):
    LOG.clear()
    plan = make_plan(tmp_path)
    run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    for _attempt in range(2):  # the run after a rerun works too
        LOG.clear()
        report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False,
                                                      rerun=frozenset({kind})))
        assert report.failures == []
        assert sorted(LOG) == sorted((["prepare:ner"] if kind == "prepare" else [])
                                     + [f"evaluate:{lang}" for lang in ("amh", "khm", "kan")])
    records = read_results(tmp_path / "run" / "results.jsonl")
    assert len(records) == 3 and all(r.facts("prepare") for r in records)


def test_rerun_of_an_unknown_kind_names_the_valid_kinds(tmp_path):
    plan = make_plan(tmp_path)
    with pytest.raises(UnknownStageKindError, match="'evaluaton'.*evaluation, prepare"):
        run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False,
                                             rerun=frozenset({"evaluaton"})))


def test_a_deleted_upstream_artifact_is_rebuilt_before_the_record_is_written(tmp_path):
    plan = make_plan(tmp_path)
    run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    shutil.rmtree(next((tmp_path / "run" / "cache" / "prepare").glob("[0-9a-f]*")))
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert report.failures == [] and len(read_results(tmp_path / "run" / "results.jsonl")) == 3


class TwoSources(FakeMethod):
    """Two stages of one kind (per source) feed the evaluation: their facts must stay apart."""

    def build(self, job, env):
        inputs = {f"prep_{lang}": Prepare(FakeConfig(task=job.task, lang=lang)) for lang in ("eng", "rus")}
        return Evaluate(FakeConfig(task=job.task, lang=job.lang), seed=job.seed,
                        prep=inputs["prep_eng"], **inputs)


def test_summaries_of_stages_of_one_kind_are_kept_by_role(tmp_path):
    plan = make_plan(tmp_path)
    plan.methods["fake"] = TwoSources("fake", FakeConfig())
    run_jobs(plan, plan.jobs[:1], RunOptions(tmp_path / "run", progress=False))
    (record,) = read_results(tmp_path / "run" / "results.jsonl")
    assert record.facts("prepare") == {"prep": {"value": 10.0, "lang": "eng"},
                                       "prep_rus": {"value": 10.0, "lang": "rus"}}


def test_failed_jobs_are_named_with_the_stage_that_raised(tmp_path):
    """A failed shared stage fails every job built on it; each is named with that stage."""
    class BrokenPrepare(Prepare):
        def run(self, ctx, inputs, out):
            raise ValueError("no data")

    class Broken(FakeMethod):
        def build(self, job, env):
            stage = super().build(job, env)
            if job.lang != "kan":
                stage.inputs["prep"] = BrokenPrepare(FakeConfig(task=job.task, lang="x"))
            return stage

    plan = make_plan(tmp_path)
    plan.methods["fake"] = Broken("fake", FakeConfig())
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert len(report.failures) == 3  # the shared prepare, and the two evaluations on it
    assert sorted(job.lang for job in report.failed_jobs) == ["amh", "khm"]
    for failure in report.failed_jobs.values():
        assert failure.stage.kind == "prepare" and "no data" in failure.reason
        assert failure.stage.title == "prepare for fake/tiny-xlmr/ner/amh/seed1"  # first job
    assert [r.lang for r in read_results(tmp_path / "run" / "results.jsonl")] == ["kan"]


class SlowPrepare(Prepare):
    """Takes a while, so that two runs started together overlap on it."""

    def run(self, ctx, inputs, out):
        time.sleep(1.0)
        super().run(ctx, inputs, out)


class Slow(FakeMethod):
    def build(self, job, env):
        return Evaluate(FakeConfig(task=job.task, lang=job.lang), seed=job.seed,
                        prep=SlowPrepare(FakeConfig(task=job.task)))


def _run_and_dump_log(tmp_path, name):
    LOG.clear()
    plan = make_plan(tmp_path)
    plan.methods["fake"] = Slow("fake", FakeConfig())
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    (tmp_path / name).write_text(json.dumps({"log": LOG, "failures": len(report.failures)}))


def test_two_concurrent_runs_on_one_workdir_build_each_stage_once(tmp_path):
    context = multiprocessing.get_context("fork")
    runs = [context.Process(target=_run_and_dump_log, args=(tmp_path, f"run{i}.json")) for i in range(2)]
    for process in runs:
        process.start()
    for process in runs:
        process.join(120)
    outputs = [json.loads((tmp_path / f"run{i}.json").read_text()) for i in range(2)]
    assert [o["failures"] for o in outputs] == [0, 0]
    builds = sorted(entry for o in outputs for entry in o["log"])
    assert builds == ["evaluate:amh", "evaluate:kan", "evaluate:khm", "prepare:ner"]
    assert len(read_results(tmp_path / "run" / "results.jsonl")) == 3
