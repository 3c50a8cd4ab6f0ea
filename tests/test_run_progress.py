"""Signs of life without a terminal: a line per finished job and per long stage, wall time from the start.

The unit tests drive :class:`harness.run.progress.RunProgress` with a fake clock (no stage takes a
minute here); the slow ones run a reduced smoke selection (zero-shot, tiny XLM-R, NER and POS: two
jobs) through the CLI with its output going to a file, as in a cluster job's log.
"""

import logging
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import harness.cli
from harness.run.progress import LONG_STAGE_SECONDS, RunProgress, built_seconds
from harness.training.arguments import TrainingConfig
from tests.shared_runs import SELECTION

ROOT = Path(__file__).resolve().parents[1]
PROGRESS = "harness.run.progress"


class Clock:
    """A fake ``time.time``: it moves only when the test says so."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def Fake(kind, key, job="m/b/t/l/seed1", schedule=None):  # noqa: N802  (stands in for a Stage)
    extra = {"schedule": lambda: schedule} if schedule else {}
    return SimpleNamespace(kind=kind, key=key, title=f"{kind} for {job}", **extra)


def said(caplog):
    return [r.getMessage() for r in caplog.records if r.name == PROGRESS]


def test_a_stage_of_a_minute_or_more_gets_a_line_when_it_ends(caplog):
    caplog.set_level(logging.INFO, logger=PROGRESS)
    clock = Clock()
    short, long, elsewhere = Fake("corpus", "c"), Fake("finetune", "f"), Fake("evaluation", "e")
    progress = RunProgress(1, set(), [short, long, elsewhere], {}, started=clock.now - 30, clock=clock)
    clock.now += 60
    progress.stage_done(short, LONG_STAGE_SECONDS - 0.5)
    clock.now += 95
    progress.stage_done(long, 95.0)
    progress.stage_done(elsewhere, None)  # built by another run meanwhile: not this run's time
    assert said(caplog) == ["stage finetune for m/b/t/l/seed1 took 1 min 35 s; 3 min 05 s elapsed"]
    assert progress.left == {}


def test_without_a_cost_for_every_stage_left_the_estimate_is_the_mean_per_job(caplog):
    caplog.set_level(logging.INFO, logger=PROGRESS)
    clock = Clock()
    stages = [Fake("finetune", f"f{i}") for i in range(4)]
    progress = RunProgress(4, set(), stages, {}, started=clock.now - 10, clock=clock)
    clock.now += 40
    progress.stage_done(stages[0], 40.0)
    progress.job_finished("a")  # the finetunes left have a measured kind now: the costs say
    stages[1].kind = "uncosted"  # one stage left without a figure: the mean per job says
    progress.job_finished("b")
    assert said(caplog) == [
        "job 1/4 finished: a; 50.0 s elapsed, about 2 min 00 s left "
        "(plan's costs of the 3 stages left: measured in this workdir)",
        "job 2/4 finished: b; 50.0 s elapsed, about 40.0 s left "
        "(mean 20.0 s per job finished in this run; no cost known for every stage left)"]


def test_the_estimate_takes_the_workdirs_timings_and_the_papers_scaled_hours(caplog):
    caplog.set_level(logging.INFO, logger=PROGRESS)
    paper = TrainingConfig(epochs=11, batch_size=32, learning_rate=5e-4)  # the paper's: 0.5 T4 hours
    left = [Fake("task_adapter", "ta", schedule=paper), Fake("evaluation", "ev")]
    progress = RunProgress(3, {"x"}, left, {"evaluation": (0.01, 4)}, clock=Clock())
    progress.job_finished("x")  # finished before the run began: counted already, no line
    progress.job_finished("y")
    assert said(caplog) == [
        "job 2/3 finished: y; 0.0 s elapsed, about 30 min 36 s left (plan's costs of the 2 stages "
        "left: measured in this workdir, paper T4 x steps)"]
    progress.job_finished("z")
    assert said(caplog)[-1] == "job 3/3 finished: z; 0.0 s elapsed, no job left"


def test_only_a_stage_this_run_built_has_its_seconds():
    assert built_seconds({"run": "r1", "seconds": 12.5}, "r1") == 12.5
    assert built_seconds({"run": "r0", "seconds": 12.5}, "r1") is None


def test_the_first_command_counts_from_the_clis_import_a_later_one_from_its_own_start(monkeypatch):
    monkeypatch.setattr(harness.cli, "_IMPORTED", 123.0)
    assert harness.cli.command_started() == 123.0
    assert harness.cli.command_started() > 123.0


# --- the CLI, output to a file ------------------------------------------------------------------

@pytest.fixture
def logged_run(logged_selection_run):
    """The session's run of the selection with its output to a file (``tests/conftest.py``)."""
    return logged_selection_run


@pytest.mark.slow
def test_a_log_file_gets_a_line_per_job_as_it_finishes(logged_run):
    seen, running, text, code, _ = logged_run
    assert code == 0, text
    assert seen is not None, text
    assert running, "the first job's line was read only once the run had ended"
    assert "job 2/2 finished" not in seen, seen  # said as the first job finished, not at the end
    assert "2 jobs: 2 finished" not in seen, seen  # the summary came after it
    lines = text.splitlines()
    jobs = [i for i, line in enumerate(lines) if line.startswith("INFO harness.run.progress: job ")]
    summary = next(i for i, line in enumerate(lines) if line.startswith("2 jobs: 2 finished, 0 failed."))
    assert len(jobs) == 2 and jobs[-1] < summary, text
    assert " elapsed, about " in lines[jobs[0]] and " left (" in lines[jobs[0]], lines[jobs[0]]
    assert lines[jobs[1]].endswith("elapsed, no job left"), lines[jobs[1]]
    assert lines[-1].startswith("Wall time: "), text  # the summary as before, last


@pytest.mark.slow
def test_the_wall_time_counts_from_the_commands_start(logged_run, monkeypatch, copy_workdir):
    """The run's body starts long after the CLI's first import: the wall time counts from that."""
    from harness.cli.main import cli

    *_, workdir = logged_run
    workdir = copy_workdir(workdir)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(harness.cli, "_IMPORTED", time.time() - 7200)  # imported two hours ago
    done = CliRunner().invoke(cli, ["run", "suites/smoke.yaml", "--workdir", str(workdir), *SELECTION])
    assert done.exit_code == 0, done.output
    assert "Wall time: 2 h 00 min." in done.output, done.output


def test_the_progress_lines_are_switched_off_after_the_run_even_when_it_raises():
    """A ``run`` in a process that goes on (tests, notebooks) leaves no progress lines on."""
    import logging

    from harness.cli.run import progress_lines
    from harness.run.progress import log

    before = log.level
    with progress_lines(True):
        assert log.isEnabledFor(logging.INFO)
    assert log.level == before
    with pytest.raises(RuntimeError), progress_lines(True):
        raise RuntimeError("a stage failed")
    assert log.level == before
    with progress_lines(False):
        assert log.level == before
