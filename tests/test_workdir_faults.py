"""Faults of the workdir's filesystem: a full disk at each write boundary, a read-only workdir,
two runs on one workdir (what each says it built, lock files), file modes under the umask.

A full disk is injected (OSError ENOSPC from the write, and torch's own error when the file
that ``torch.save`` writes runs out of room), not produced: each run must stop with one
:class:`NoSpaceError` naming the directory and what was being written, leave no partial file,
and, once the fault is gone, resume to the records of an uninterrupted run.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import pathlib
import stat
import tempfile
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict

from harness.cli.main import cli
from harness.core.graph import Cache, Stage, StageContext
from harness.core.workdir import NoSpaceError, WorkdirError, check_writable, is_out_of_space
from harness.methods.base import Method
from harness.planning.plan import Plan
from harness.run.records import read_results
from harness.run.runner import CACHE_DIR, RunOptions, run_jobs
from harness.suite.schema import Suite

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    task: str = ""
    lang: str = ""
    pause: float = 0.0


class Weights(Stage):
    """Saves a tensor with torch.save (the path every weights file takes)."""

    kind = "weights"

    def run(self, ctx, inputs, out):
        time.sleep(self.config.pause)
        torch.save({"w": torch.ones(100_000) * len(self.config.task)}, out / "weights.pt")


class Score(Stage):
    kind = "evaluation"

    def run(self, ctx, inputs, out):
        weights = torch.load(inputs["weights"] / "weights.pt")["w"]
        value = float(weights.sum()) + len(self.config.lang)
        (out / "metrics.json").write_text(json.dumps({"metric": "f1", "value": value}))


class Scored(Method):
    Config = Config

    def build(self, job, env):
        weights = Weights(Config(task=job.task, pause=self.config.pause))
        return Score(Config(task=job.task, lang=job.lang), seed=job.seed, weights=weights)


def make_plan(tmp_path: Path, pause: float = 0.0) -> Plan:
    suite = Suite.model_validate({
        "name": "disk", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh", "khm"], "sources": ["eng"],
                          "data": {"path": str(tmp_path)}}},
        "methods": {"scored": {}}, "monolingual": {"data": {"path": str(tmp_path)}},
    })
    return Plan(suite, {"scored": Scored("scored", Config(pause=pause))}, suite.jobs())


def comparable(workdir: Path) -> list[dict]:
    return [r.model_dump(exclude={"seconds"}) for r in read_results(workdir / "results.jsonl")]


def leftovers(workdir: Path) -> list[Path]:
    """Partial files and directories a writer left: atomic writes' and stages' temporaries."""
    return [p for p in workdir.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-")]


def fail_writing(monkeypatch, pattern: str) -> None:
    """Path.write_text of a file matching ``pattern`` writes half its text, then the disk is full."""
    original = pathlib.Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.match(pattern):
            original(self, data[: len(data) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", write_text)


class FullDisk:
    """A file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, handle, room: int):
        self.handle, self.room = handle, room

    def write(self, data) -> int:
        if len(data) > self.room:
            self.handle.write(bytes(data[: self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def torch_save_into_full_disk(monkeypatch) -> None:
    """torch.save's writer meets a full disk a kilobyte in: torch's own error (it wraps ENOSPC)."""
    original = torch.save

    def save(obj, path, *args, **kwargs):
        with open(path, "wb") as handle:
            original(obj, FullDisk(handle, 1024), *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)


BOUNDARIES = {
    "weights of a stage": (torch_save_into_full_disk, "building weights for scored/"),
    "a manifest": (lambda patch: fail_writing(patch, ".manifest.json.*.tmp"), "building weights"),
    "a record": (lambda patch: fail_writing(patch, "results/.*.json.*.tmp"),
                 "writing the record of scored/tiny-xlmr/ner/amh/seed1"),
    "results.jsonl": (lambda patch: fail_writing(patch, ".results.jsonl.*.tmp"),
                      "writing {workdir}/results.jsonl"),
}


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
def test_a_full_disk_stops_with_one_message_and_resumes_to_the_same_records(
        tmp_path, monkeypatch, boundary):
    plan = make_plan(tmp_path)
    run_jobs(plan, plan.jobs, RunOptions(tmp_path / "whole", progress=False))
    workdir = tmp_path / "full"
    inject, doing = BOUNDARIES[boundary]
    with monkeypatch.context() as patch:
        inject(patch)
        with pytest.raises(NoSpaceError) as stop:
            run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    message = str(stop.value)
    assert message.startswith(f"no space left on the device of {workdir}")
    assert doing.format(workdir=workdir) in message and "run the same command again" in message
    assert leftovers(workdir) == []
    report = run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    assert report.failures == [] and comparable(workdir) == comparable(tmp_path / "whole")


def test_a_full_disk_stops_the_run_at_the_first_stage_not_each_stage(tmp_path, monkeypatch):
    plan = make_plan(tmp_path)
    built = []

    def build(self, stage, ctx):
        built.append(stage)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")

    monkeypatch.setattr(Cache, "_build", build)
    with pytest.raises(NoSpaceError, match="while building weights for"):
        run_jobs(plan, plan.jobs, RunOptions(tmp_path / "w", progress=False))
    assert len(built) == 1


def test_out_of_space_is_found_through_the_exception_chain():
    try:
        try:
            raise ENOSPC
        except OSError as inner:
            raise RuntimeError("the trainer could not save") from inner
    except RuntimeError as outer:
        assert is_out_of_space(outer)
    assert is_out_of_space(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_out_of_space(OSError(errno.EACCES, "Permission denied"))
    assert not is_out_of_space(RuntimeError("CUDA error"))


def tokenizers_full_disk():
    """What the tokenizers library (Rust) raises for ENOSPC: a plain Exception, text only."""
    return Exception("No space left on device (os error 28)")


def wrapped_full_disk():
    """A library's own RuntimeError raised from the OSError ENOSPC it met."""
    try:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError as error:
        try:
            raise RuntimeError("saving the tokenizer failed") from error
        except RuntimeError as wrapped:
            return wrapped


LIBRARY_FAULTS = {"tokenizers' plain Exception": tokenizers_full_disk,
                  "RuntimeError from OSError ENOSPC": wrapped_full_disk}


def score_amh_meets(monkeypatch, fault) -> list[str]:
    """Score of amh (the first of two independent scores) raises ``fault()``; the stages that ran."""
    ran = []
    original = Score.run

    def run(self, ctx, inputs, out):
        ran.append(f"{self.kind} {self.config.lang}".strip())
        if self.config.lang == "amh":
            raise fault()
        original(self, ctx, inputs, out)

    monkeypatch.setattr(Score, "run", run)
    return ran


@pytest.mark.parametrize("fault", list(LIBRARY_FAULTS))
def test_a_full_disk_a_library_reports_its_own_way_stops_at_the_first_stage(tmp_path, monkeypatch, fault):
    """Not a failed stage the run carries on after: the stop, said once; the resume completes."""
    plan = make_plan(tmp_path)
    run_jobs(plan, plan.jobs, RunOptions(tmp_path / "whole", progress=False))
    workdir = tmp_path / "full"
    with monkeypatch.context() as patch:
        ran = score_amh_meets(patch, LIBRARY_FAULTS[fault])
        with pytest.raises(NoSpaceError) as stop:
            run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    assert ran == ["evaluation amh"]  # khm's score, which does not depend on amh's, never ran
    message = str(stop.value)
    assert message.startswith(f"no space left on the device of {workdir / CACHE_DIR} while "
                              f"building evaluation for scored/")
    assert "run the same command again" in message and leftovers(workdir) == []
    report = run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))  # space freed
    assert report.failures == [] and comparable(workdir) == comparable(tmp_path / "whole")


@pytest.mark.parametrize("fault", list(LIBRARY_FAULTS))
def test_the_cli_says_a_library_reported_full_disk_in_one_line(tmp_path, monkeypatch, fault):
    plan = make_plan(tmp_path)
    monkeypatch.setattr("harness.cli.run.load_plan", lambda *args, **kwargs: plan)
    score_amh_meets(monkeypatch, LIBRARY_FAULTS[fault])
    suite = Path(__file__).resolve().parents[1] / "suites" / "smoke.yaml"  # replaced by ``plan``
    result = CliRunner().invoke(cli, ["run", str(suite), "--workdir", str(tmp_path / "w"),
                                      "--device", "cpu"])
    assert result.exit_code == 2, result.output  # the exit code of every full disk
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: no space left on the device of {tmp_path / 'w' / CACHE_DIR}")


@pytest.mark.parametrize("error", [
    Exception("No space left on device (os error 28)"),
    RuntimeError("write failed: DISK QUOTA EXCEEDED"),
    ValueError(f"cannot write shard: {os.strerror(errno.ENOSPC)}"),
    OSError("No space left on device"),  # no errno: the text is all there is
], ids=["tokenizers", "quota-upper-case", "strerror", "oserror-without-errno"])
def test_out_of_space_is_recognised_by_the_os_words_where_a_library_flattened_the_errno(error):
    assert is_out_of_space(error)


def test_out_of_space_is_found_on_either_link_of_the_chain():
    outer = RuntimeError("the trainer could not save")
    outer.__cause__ = ValueError("bad value")
    outer.__context__ = Exception("No space left on device (os error 28)")
    assert is_out_of_space(outer)


def test_an_errno_of_another_kind_wins_over_the_words():
    assert not is_out_of_space(OSError(errno.EIO, "No space left on device? no: an I/O error"))
    assert not is_out_of_space(Exception("no space left in the vocabulary"))


def test_a_read_only_workdir_is_said_once_before_any_stage(tmp_path, monkeypatch):
    """Faked (root writes anywhere): creating the probe file is refused."""
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("harness.core.workdir.tempfile.TemporaryFile", refuse)
    plan = make_plan(tmp_path)
    monkeypatch.setattr(Cache, "materialize", lambda *a: pytest.fail("a stage ran"))
    with pytest.raises(WorkdirError, match=f"workdir {tmp_path / 'ro'} is not writable "
                                           f"\\(Read-only file system\\).*--workdir"):
        run_jobs(plan, plan.jobs, RunOptions(tmp_path / "ro", progress=False))


def test_a_read_only_cache_folder_of_a_writable_workdir_is_named(tmp_path, monkeypatch):
    original = tempfile.TemporaryFile

    def refuse_in_cache(*args, dir=None, **kwargs):
        if Path(dir).name == CACHE_DIR:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return original(*args, dir=dir, **kwargs)

    (tmp_path / "work" / CACHE_DIR).mkdir(parents=True)
    monkeypatch.setattr("harness.core.workdir.tempfile.TemporaryFile", refuse_in_cache)
    plan = make_plan(tmp_path)
    with pytest.raises(WorkdirError, match=f"^cache/ in workdir {tmp_path / 'work'} is not writable"):
        run_jobs(plan, plan.jobs, RunOptions(tmp_path / "work", progress=False))


def test_the_cli_says_a_read_only_workdir_in_one_line(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("harness.core.workdir.tempfile.TemporaryFile", refuse)
    suite = Path(__file__).resolve().parents[1] / "suites" / "smoke.yaml"
    result = CliRunner().invoke(cli, ["run", str(suite), "--workdir", str(tmp_path / "ro"),
                                      "--device", "cpu"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"Error: workdir {tmp_path / 'ro'} is not writable (Permission denied): the run writes "
        f"its cache and results there; fix its permissions or choose another --workdir"]


@pytest.mark.slow
def test_the_cli_says_a_full_disk_in_one_line_and_the_same_command_resumes(tmp_path, monkeypatch):
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    steps = {"max_steps": 1, "batch_size": 4, "max_device_batch_size": 4}
    suite = tmp_path / "disk.yaml"
    suite.write_text(json.dumps({  # JSON is YAML
        "name": "disk", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"path": str(fixtures / "wikiann")}}},
        "monolingual": {"data": {"path": str(fixtures / "monolingual")}, "target_samples": 24,
                        "source_samples": 24, "words_per_sample": 16},
        "methods": {"zero_shot": {"training": steps}}}))
    command = ["run", str(suite), "--workdir", str(tmp_path / "w"), "--device", "cpu"]
    with monkeypatch.context() as patch:
        fail_writing(patch, "results/.*.json.*.tmp")
        result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: no space left on the device of {tmp_path / 'w'} while writing "
                           f"the record of zero_shot/tiny-xlmr/ner/amh/seed1")
    assert leftovers(tmp_path / "w") == []
    again = CliRunner().invoke(cli, command)
    assert again.exit_code == 0, again.output
    assert "0 failed" in again.stdout and len(comparable(tmp_path / "w")) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory: the "
                                              "refusal cannot be observed (faked above)")
def test_a_chmod_read_only_workdir_is_refused(tmp_path):
    workdir = tmp_path / "ro"
    workdir.mkdir()
    workdir.chmod(0o555)
    try:
        with pytest.raises(WorkdirError, match="not writable"):
            check_writable(workdir)
    finally:
        workdir.chmod(0o755)


def test_a_writable_workdir_passes_and_keeps_no_probe(tmp_path):
    check_writable(tmp_path / "new" / "work")
    assert list((tmp_path / "new" / "work").iterdir()) == []


def _run_and_count(tmp_path: Path, name: str) -> None:
    plan = make_plan(tmp_path, pause=1.0)
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    (tmp_path / name).write_text(json.dumps({"built": report.built,
                                             "elsewhere": report.built_elsewhere}))


def test_two_runs_on_one_workdir_count_what_the_other_built(tmp_path):
    # spawned, not forked: a fork of a test process whose torch or OpenMP pools have threads can
    # hang in the child (a pool's lock held by a thread that the fork did not copy)
    context = multiprocessing.get_context("spawn")
    runs = [context.Process(target=_run_and_count, args=(tmp_path, f"run{i}.json")) for i in range(2)]
    for process in runs:
        process.start()
    for process in runs:
        process.join(120)
    counts = [json.loads((tmp_path / f"run{i}.json").read_text()) for i in range(2)]
    assert sorted(c["built"] + c["elsewhere"] for c in counts) == [3, 3]  # 1 weights, 2 scores
    assert sum(c["built"] for c in counts) == 3  # each stage built once, by one of them
    assert not list((tmp_path / "run" / CACHE_DIR).rglob(".lock-*"))


def test_the_summary_counts_apart_what_another_run_built(tmp_path, capsys):
    from harness.cli.run import _print_summary
    from harness.run.runner import RunReport

    _print_summary(RunReport([], pending=5, cached=60, built_elsewhere=4), tmp_path, [])
    assert ("65 stages: 1 run, 0 failed, 0 not run because an input failed, 60 cached, "
            "4 built by another run.") in capsys.readouterr().out


def test_lock_files_go_once_their_stage_is_built_and_stay_for_a_failed_one(tmp_path):
    class Failing(Weights):
        def run(self, ctx, inputs, out):
            raise ValueError("no data")

    cache = Cache(tmp_path)
    ctx = StageContext(cache=cache, progress=False)
    cache.materialize(Weights(Config(task="a")), ctx)
    with pytest.raises(ValueError):
        cache.materialize(Failing(Config(task="b")), ctx)
    assert [p.name for p in tmp_path.rglob(".lock-*")] == [f".lock-{Failing(Config(task='b')).key}"]
    cache.materialize(Weights(Config(task="b")), ctx)  # same key as the failed one: now built
    assert not list(tmp_path.rglob(".lock-*"))


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
                         ids=["022", "027", "002"])
def test_artifact_files_follow_the_umask(tmp_path, umask, mode):
    from safetensors.torch import save_file

    class Safetensors(Stage):
        kind = "weights"

        def run(self, ctx, inputs, out):
            save_file({"w": torch.zeros(2)}, out / "model.safetensors")  # written 0600
            (out / "config.json").write_text("{}")
            Path(tempfile.mkdtemp(dir=out)).rename(out / "vectors")  # made 0700

    previous = os.umask(umask)
    try:
        path = Cache(tmp_path).materialize(Safetensors(), StageContext(progress=False))
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.iterdir()}
    assert modes == {"model.safetensors": mode, "config.json": mode, "manifest.json": mode,
                     "vectors": 0o777 & ~umask}
