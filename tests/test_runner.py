"""The runner on a fake method: dedup of shared stages, records, and resume after a kill."""

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from harness.graph import Stage
from harness.methods import Method
from harness.planning import Plan
from harness.results import read_results
from harness.runner import JobGraph, RunOptions, run_jobs
from harness.suite import Suite

LOG: list[str] = []


class FakeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    task: str = ""
    lang: str = ""
    kill_on: str = ""


class Prepare(Stage):
    kind = "prepare"

    def run(self, ctx, inputs, out):
        LOG.append(f"prepare:{self.config.task}")
        (out / "value.txt").write_text("10")


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
