"""The local executor's worker processes: order, failures, how many, and the same results."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from harness.cli.common import load_plan
from harness.core.graph import Cache, Stage, StageContext, topological_order
from harness.run.executors.local import (
    WORKERS_ENV,
    LocalExecutor,
    WorkersSettingError,
    local_workers,
)
from harness.run.records import RESULTS_FILE, read_results
from harness.run.runner import RunOptions, run_jobs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Cfg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    log: str = ""
    sleep: float = 0.0


class Append(Stage):
    """Writes its inputs' texts and its name; logs (name, pid, start, end) to a shared file."""

    kind = "append"

    def run(self, ctx, inputs, out):
        start = time.time()
        time.sleep(self.config.sleep)
        text = "".join((inputs[k] / "text").read_text() for k in sorted(inputs))
        (out / "text").write_text(text + self.config.name)
        with open(self.config.log, "a") as handle:
            handle.write(f"{self.config.name} {os.getpid()} {start} {time.time()}\n")


class Fails(Append):
    kind = "fails"

    def run(self, ctx, inputs, out):
        raise ValueError("bad input data")


def execute(stages, root: Path, workers: int):
    done: list[str] = []
    cache = Cache(root)
    failures = LocalExecutor(workers=workers).execute(
        topological_order(stages), cache, StageContext(cache=cache, progress=False),
        lambda stage: done.append(stage.config.name))
    return failures, done


def builds(log: str) -> dict[str, tuple[int, float, float]]:
    lines = [line.split() for line in Path(log).read_text().splitlines()]
    assert len(lines) == len({line[0] for line in lines})  # each stage built once
    return {name: (int(pid), float(start), float(end)) for name, pid, start, end in lines}


def test_two_workers_run_independent_stages_at_once_and_inputs_first(tmp_path):
    log = str(tmp_path / "builds.log")
    a = Append(Cfg(name="a", log=log, sleep=1.0))
    b = Append(Cfg(name="b", log=log, sleep=1.0))
    top = Append(Cfg(name="c", log=log), x=a, y=b)
    failures, done = execute([top], tmp_path / "cache", workers=2)
    assert failures == [] and sorted(done) == ["a", "b", "c"] and done[-1] == "c"
    assert (Cache(tmp_path / "cache").path(top) / "text").read_text() == "abc"
    built = builds(log)
    assert os.getpid() not in {pid for pid, _, _ in built.values()}  # in worker processes
    assert built["a"][0] != built["b"][0]                            # two of them
    assert built["a"][1] < built["b"][2] and built["b"][1] < built["a"][2]  # overlapping
    assert built["c"][1] >= max(built["a"][2], built["b"][2])        # after both inputs
    assert execute([top], tmp_path / "cache", workers=2)[1] == ["a", "b", "c"]  # cached: not rebuilt
    assert len(builds(log)) == 3


def test_a_failed_stage_stops_only_what_depends_on_it(tmp_path):
    log = str(tmp_path / "builds.log")
    bad = Fails(Cfg(name="bad", log=log))
    after = Append(Cfg(name="after", log=log), up=bad)
    other = Append(Cfg(name="other", log=log))
    failures, done = execute([after, other], tmp_path / "cache", workers=2)
    assert done == ["other"]
    reasons = {failure.stage.config.name: failure.reason for failure in failures}
    assert set(reasons) == {"bad", "after"} and reasons["bad"] == "ValueError: bad input data"
    assert reasons["after"].startswith("input ") and reasons["after"].endswith(" failed")


def test_without_keep_going_the_stage_error_is_raised(tmp_path):
    cache = Cache(tmp_path / "cache")
    log = str(tmp_path / "log")
    stages = [Fails(Cfg(name="bad", log=log)), Append(Cfg(name="x", log=log))]
    with pytest.raises(ValueError, match="bad input data"):
        LocalExecutor(keep_going=False, workers=2).execute(
            stages, cache, StageContext(cache=cache, progress=False), lambda stage: None)


def test_how_many_workers(monkeypatch):
    stages = [Append(Cfg(name=str(i))) for i in range(5)]
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    monkeypatch.setattr("harness.run.executors.local.usable_cpus", lambda: 4)
    monkeypatch.setattr("harness.run.executors.local.threads_for", lambda stage: 1)
    assert local_workers(stages, "cpu") == 4          # one-thread stages: one per usable CPU
    assert local_workers(stages[:2], "cpu") == 2      # never more than the stages
    assert local_workers(stages, "cuda") == 1         # one device: one stage at a time
    monkeypatch.setattr("harness.run.executors.local.threads_for", lambda stage: 4)
    assert local_workers(stages, "cpu") == 1          # a stage that takes every CPU
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert local_workers(stages, "cuda") == 3
    monkeypatch.setenv(WORKERS_ENV, "two")
    with pytest.raises(WorkersSettingError, match="UNIBRIDGE_WORKERS"):
        local_workers(stages, "cpu")


def reduced_suite(tmp_path: Path) -> Path:
    """One tiny backbone, one task with two targets, the zero-shot baseline, a few steps."""
    payload = {
        "name": "workers",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh", "tgl"], "sources": ["eng"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 48,
                        "source_samples": 48, "words_per_sample": 24},
        "methods": {"zero_shot": {"training": {"max_steps": 3, "batch_size": 4,
                                               "max_device_batch_size": 4}}},
    }
    path = tmp_path / "workers.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def outcomes(workdir: Path) -> dict:
    """Job id -> value, details and every stage's facts except timings."""
    records = {}
    for record in read_results(workdir / RESULTS_FILE):
        facts = {role: {k: v for k, v in f.items() if k != "seconds"} for role, f in record.stages.items()}
        records[record.job_id] = (record.value, record.details, facts)
    return records


@pytest.mark.slow
def test_reduced_suite_gives_the_same_results_in_workers(tmp_path, monkeypatch):
    plan = load_plan(reduced_suite(tmp_path))
    for workers in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, workers)
        report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / workers, progress=False))
        assert report.failures == [] and report.cached == 0
    here, workers = outcomes(tmp_path / "1"), outcomes(tmp_path / "2")
    assert len(here) == 2 and workers == here
    weights = sorted((tmp_path / "1" / "cache").rglob("*.safetensors"))  # backbone, fine-tuned
    assert len(weights) == 2
    for path in weights:
        twin = tmp_path / "2" / path.relative_to(tmp_path / "1")
        assert twin.read_bytes() == path.read_bytes(), path
