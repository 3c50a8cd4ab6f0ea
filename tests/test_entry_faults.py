"""Faults of cache entries and records put in on purpose (issue 31): an entry that may not be
read, an entry that is a symbolic link, a pickle in place of an artifact's tensors, a failed job
whose earlier record would pass for current, a record outside its own interval, a Ray address
where nothing listens. Each ends in one message of the harness's own, never a traceback.

Permissions are faked (root reads anything): ``Path.stat`` and ``Path.open`` of the entry raise
PermissionError as they do for another user's ``chmod 000`` entry.
"""

from __future__ import annotations

import errno
import os
import pathlib
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.executor import failure_reason
from harness.core.manifest import CacheError, load_tensors
from harness.planning.plan import Plan
from harness.run.records import RESULTS_FILE, read_results, record_path
from harness.run.runner import RunOptions, run_jobs
from harness.suite.schema import Suite
from tests.test_runner import Evaluate, FakeConfig, FakeMethod, Prepare
from tests.test_verify import evaluation_entry, six_target_plan


def deny(monkeypatch, folder: Path) -> None:
    """Reading anything under ``folder`` (its files' status included) raises PermissionError."""
    stat, open_ = pathlib.Path.stat, pathlib.Path.open

    def refused(path) -> bool:
        return path == folder / "manifest.json" or folder in path.parents

    def denied_stat(self, *args, **kwargs):
        if refused(self):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return stat(self, *args, **kwargs)

    def denied_open(self, *args, **kwargs):
        if refused(self):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return open_(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", denied_stat)
    monkeypatch.setattr(pathlib.Path, "open", denied_open)


@pytest.fixture
def finished(tmp_path):
    plan, workdir = six_target_plan(tmp_path), tmp_path / "run"
    run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    return plan, workdir


def test_run_names_an_unreadable_entry_and_the_fix(finished, monkeypatch):
    plan, workdir = finished
    entry = evaluation_entry(workdir, plan, "amh")
    deny(monkeypatch, entry)
    with pytest.raises(CacheError) as stop:
        run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    message = str(stop.value)
    assert message.startswith(f"unreadable cache entry {entry} (evaluation for ")
    assert "Permission denied" in message and f"chmod -R u+rwX {entry}" in message
    assert "\n" not in message


def test_verify_lists_an_unreadable_entry_and_repair_says_what_to_do(finished, monkeypatch):
    import harness.core.graph as graph

    plan, workdir = finished
    entry = evaluation_entry(workdir, plan, "khm")
    deny(monkeypatch, entry)
    done = CliRunner().invoke(cli, ["verify", str(workdir)])
    assert done.exit_code == 1, done.output
    assert f"damaged {entry} (evaluation): manifest.json may not be read (Permission denied)" \
        in done.output

    def refuse_removal(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(graph.shutil, "rmtree", refuse_removal)
    repaired = CliRunner().invoke(cli, ["verify", str(workdir), "--repair"])
    assert repaired.exit_code == 2 and "Traceback" not in repaired.output, repaired.output
    [error] = [line for line in repaired.output.splitlines() if line.startswith("Error:")]
    assert f"damaged cache entry {entry} may not be removed (Permission denied" in error
    assert f"chmod -R u+rwX {entry}" in error


def test_a_linked_entry_is_damaged_and_repair_removes_the_link_not_its_target(finished, tmp_path):
    plan, workdir = finished
    entry = evaluation_entry(workdir, plan, "kan")
    target = tmp_path / "elsewhere" / entry.name
    target.parent.mkdir()
    entry.rename(target)
    entry.symlink_to(target, target_is_directory=True)
    kept = sorted(p.name for p in target.iterdir())
    done = CliRunner().invoke(cli, ["verify", str(workdir)])
    assert done.exit_code == 1
    assert f"damaged {entry} (evaluation): it is a symbolic link to {target}" in done.output
    repaired = CliRunner().invoke(cli, ["verify", str(workdir), "--repair"])
    assert repaired.exit_code == 0 and "Traceback" not in repaired.output, repaired.output
    assert not entry.is_symlink() and not entry.exists()
    assert sorted(p.name for p in target.iterdir()) == kept  # the target survives, whole
    report = run_jobs(plan, plan.jobs, RunOptions(workdir, progress=False))
    assert report.failures == [] and entry.is_dir() and not entry.is_symlink()


def test_a_run_refuses_to_read_a_linked_entry(finished, tmp_path):
    plan, workdir = finished
    entry = workdir / "cache" / "prepare" / Prepare(FakeConfig(task="ner")).key
    target = tmp_path / "outside"
    entry.rename(target)
    entry.symlink_to(target, target_is_directory=True)
    with pytest.raises(CacheError, match="symbolic link.*verify .* --repair"):
        run_jobs(plan, plan.jobs, RunOptions(workdir, rerun=frozenset({"evaluation"}),
                                             progress=False))
    assert target.is_dir()


class Anything:
    """Not a tensor: torch's weights_only loading refuses it."""


def test_a_pickle_in_place_of_tensors_is_one_line_naming_the_entry(tmp_path):
    entry = tmp_path / "run" / "cache" / "vocab_search" / ("a" * 64)
    entry.mkdir(parents=True)
    with open(entry / "embeddings.pt", "wb") as handle:
        pickle.dump(Anything(), handle)
    with pytest.raises(CacheError) as refused:
        load_tensors(entry / "embeddings.pt")
    message = str(refused.value)
    assert message.startswith(f"damaged cache entry {entry} (vocab_search): embeddings.pt holds "
                              f"objects other than tensors")
    assert f"verify {tmp_path / 'run'} --repair" in message
    assert "weights_only" not in message and "\n" not in message
    torch.save(torch.ones(2), entry / "fine.pt")
    assert load_tensors(entry / "fine.pt").tolist() == [1.0, 1.0]


def test_a_stage_failure_is_one_line():
    advice = pickle.UnpicklingError("Weights only load failed.\n(1) In PyTorch 2.6 ...\n"
                                    "(2) re-run with weights_only=False")
    assert failure_reason(advice) == "UnpicklingError: Weights only load failed."
    assert failure_reason(ValueError("")) == "ValueError"


class FailsFor(Evaluate):
    """An evaluation that now raises for one language (as a changed setting could make it)."""

    def run(self, ctx, inputs, out):
        if self.config.lang == "amh":
            raise RuntimeError("boom\nsecond line")
        super().run(ctx, inputs, out)


class NowFailing(FakeMethod):
    def build(self, job, env):
        prep = Prepare(FakeConfig(task=job.task))
        return FailsFor(FakeConfig(task=job.task, lang=job.lang, kill_on="changed"), seed=job.seed,
                        prep=prep)


def test_a_failed_job_loses_its_earlier_record(tmp_path):
    suite = Suite.model_validate({
        "name": "fake", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh", "khm"], "sources": ["eng"],
                          "data": {"path": str(tmp_path)}}},
        "methods": {"fake": {}}, "monolingual": {"data": {"path": str(tmp_path)}},
    })
    workdir = tmp_path / "run"
    before = Plan(suite, {"fake": FakeMethod("fake", FakeConfig())}, suite.jobs())
    run_jobs(before, before.jobs, RunOptions(workdir, progress=False))
    assert {r.lang for r in read_results(workdir / RESULTS_FILE)} == {"amh", "khm"}
    after = Plan(suite, {"fake": NowFailing("fake", FakeConfig())}, suite.jobs())
    report = run_jobs(after, after.jobs, RunOptions(workdir, progress=False))
    [(job, failure)] = report.failed_jobs.items()
    assert job.lang == "amh" and failure.reason == "RuntimeError: boom"
    assert not record_path(workdir, job.job_id).exists()
    assert {r.lang for r in read_results(workdir / RESULTS_FILE)} == {"khm"}


def test_a_record_outside_its_own_interval_is_drawn(tmp_path):
    from harness.report.figures import _error_bars, _pyplot, write_figures
    from tests.test_report_statistics import statistics_run

    run = statistics_run()
    records = tuple(r.model_copy(update={"value": 99.0}) if r.method == "unibridge" else r
                    for r in run.records)
    shifted = type(run)(records, run.manifest, run.thresholds, run.statistics)
    assert [p.name for p in write_figures(shifted, tmp_path)] == [
        "languages-ner.png", "languages-ner.pdf", "methods-table01.png", "methods-table01.pdf"]
    plt = _pyplot()
    figure, axes = plt.subplots()
    _error_bars(axes, [0.0, 1.0], [50.0, 10.0], [(52.0, 58.0), (30.0, 20.0)], "black")
    segments = [s.tolist() for c in axes.collections for s in c.get_segments()]
    plt.close(figure)
    assert segments == [[[0.0, 52.0], [0.0, 58.0]], [[1.0, 20.0], [1.0, 30.0]]]


RAY_PROBE = """
import sys
from pathlib import Path
from harness.core.graph import Cache, StageContext
from harness.run.executors import ray_cluster
ray_cluster.RAY_CONNECT_TIMEOUT_S = 3
cache = Cache(Path(sys.argv[1]))
try:
    ray_cluster.RayExecutor().execute([], cache, StageContext(cache=cache, progress=False),
                                      lambda stage: None)
except ray_cluster.RayConnectionError as error:
    print(error)
"""


def test_a_ray_address_where_nothing_listens_is_one_message(tmp_path):
    pytest.importorskip("ray")
    with socket.socket() as probe:  # a free port on this machine: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RAY_ADDRESS": f"127.0.0.1:{port}",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RAY_PROBE, str(tmp_path / "cache")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith(f"--executor ray: no Ray cluster answered at 127.0.0.1:{port} "
                                  f"(RAY_ADDRESS) within 3 s"), done.stdout + done.stderr
    assert "unset RAY_ADDRESS" in done.stdout and "--executor local" in done.stdout
    assert done.stderr == ""  # neither Ray's log lines nor a traceback
