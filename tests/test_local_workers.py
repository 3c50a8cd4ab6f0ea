"""The local executor's worker processes: order, failures, how many, and the same results."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from harness.cli.common import load_plan
from harness.core.graph import Cache, Stage, StageContext, topological_order
from harness.run.executors.local import (
    WORKERS_ENV,
    LocalExecutor,
    WorkersSettingError,
    local_workers,
    stage_slots,
)
from harness.run.runner import RunOptions, run_jobs
from tests.shared_runs import outcomes, two_target_suite

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


class Dies(Append):
    """Its worker process is killed while it runs (as the kernel's OOM killer would)."""

    kind = "dies"

    def run(self, ctx, inputs, out):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class Warns(Append):
    kind = "warns"

    def run(self, ctx, inputs, out):
        import logging

        logging.getLogger("harness.test_workers").warning("said in pid %d", os.getpid())
        super().run(ctx, inputs, out)


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


def test_a_stage_wider_than_the_free_slots_runs_alone(tmp_path, monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    log = str(tmp_path / "builds.log")
    monkeypatch.setattr("harness.run.executors.local.threads_for",
                        lambda stage: 2 if stage.config.name == "wide" else 1)
    stages = [Append(Cfg(name="a", log=log, sleep=0.5)), Append(Cfg(name="wide", log=log, sleep=0.5)),
              Append(Cfg(name="b", log=log, sleep=0.5))]
    failures, done = execute(stages, tmp_path / "cache", workers=2)
    assert failures == [] and sorted(done) == ["a", "b", "wide"]
    built = builds(log)
    wide = built["wide"]
    for other in ("a", "b"):  # no overlap with the stage that takes both slots
        assert built[other][2] <= wide[1] or built[other][1] >= wide[2]
    assert built["a"][2] <= wide[1] <= built["b"][1]  # and the order given is the order started


def test_a_workers_log_lines_are_said_by_the_driver(tmp_path, caplog):
    caplog.set_level("WARNING")
    failures, done = execute([Warns(Cfg(name="w", log=str(tmp_path / "log")))], tmp_path / "c", workers=2)
    assert failures == [] and done == ["w"]
    said = [r for r in caplog.records if r.name == "harness.test_workers"]
    assert len(said) == 1 and said[0].process != os.getpid()   # from the worker, through the driver


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
    assert local_workers(stages, "cpu") == 1          # stages that take every CPU
    assert stage_slots(stages[0], 4) == 4
    wide = {"0": 4}
    monkeypatch.setattr("harness.run.executors.local.threads_for",
                        lambda stage: wide.get(stage.config.name, 1))
    assert local_workers(stages, "cpu") == 4          # a wide stage among one-thread ones ...
    assert stage_slots(stages[0], 4) == 4 and stage_slots(stages[1], 4) == 1  # ... runs alone
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert local_workers(stages, "cuda") == 3
    assert stage_slots(stages[0], 3) == 1             # N at once, as asked
    monkeypatch.setenv(WORKERS_ENV, "two")
    with pytest.raises(WorkersSettingError, match="UNIBRIDGE_WORKERS"):
        local_workers(stages, "cpu")


@pytest.mark.slow
def test_reduced_suite_gives_the_same_results_in_workers(tmp_path, monkeypatch):
    plan = load_plan(two_target_suite(tmp_path, "workers"))
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


class Sleeper(Append):
    """Says its pid in a file, then sleeps ``sleep`` seconds before it writes anything."""

    kind = "sleeper"

    def run(self, ctx, inputs, out):
        Path(self.config.log).with_suffix(".pid").write_text(str(os.getpid()))
        super().run(ctx, inputs, out)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\tZ" not in next(line for line in status.splitlines() if line.startswith("State:"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_an_interrupted_run_ends_the_stages_still_running(tmp_path):
    log = str(tmp_path / "builds.log")
    sleeper = Sleeper(Cfg(name="sleeper", log=log, sleep=120.0))
    quick = Append(Cfg(name="quick", log=log, sleep=0.5))
    cache = Cache(tmp_path / "cache")
    pid_file = Path(log).with_suffix(".pid")

    def interrupt(stage):
        while not pid_file.exists():  # the sleeper is running
            time.sleep(0.1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        LocalExecutor(workers=2).execute([sleeper, quick], cache,
                                         StageContext(cache=cache, progress=False), interrupt)
    pid = int(pid_file.read_text())
    deadline = time.time() + 10
    while alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(pid)                        # its worker was ended, not waited for (120 s)
    assert not cache.is_done(sleeper)


def test_a_killed_worker_fails_its_stage_alone_and_the_run_goes_on(tmp_path):
    log = str(tmp_path / "log")
    dies = Dies(Cfg(name="d", log=log))
    others = [Append(Cfg(name=name, log=log, sleep=0.2)) for name in "xyz"]
    after = Append(Cfg(name="after", log=log), before=dies)
    cache = Cache(tmp_path / "cache")
    done = []
    failures = LocalExecutor(workers=2).execute([dies, *others, after], cache,
                                                StageContext(cache=cache, progress=False),
                                                lambda stage: done.append(stage.config.name))
    assert sorted(done) == ["x", "y", "z"]  # built, though a pool broke under some of them
    reasons = {failure.stage.config.name: failure.reason for failure in failures}
    assert set(reasons) == {"d", "after"}
    assert reasons["d"].startswith("WorkerDiedError: the worker process building it ended abruptly 2 times")
    assert all(cache.is_done(stage) for stage in others) and not cache.is_done(dies)


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_worker_count_ends_run_before_planning_in_one_line(monkeypatch, value):
    from click.testing import CliRunner

    from harness.cli.main import cli

    monkeypatch.setenv(WORKERS_ENV, value)
    result = CliRunner().invoke(cli, ["run", "suites/smoke.yaml", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {WORKERS_ENV}={value!r} is not a worker count; valid: a whole number from 1, or "
        "unset (usable CPUs // threads)"]
