"""Threads that fit the work and the machine (harness.core.threads)."""

import json
import os

import pytest
import torch
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.graph import Cache, Stage, StageContext
from harness.core.threads import (
    THREADS_ENV,
    cgroup_quota,
    passive_waiting,
    threads_for,
    usable_cpus,
    uses_tiny_backbone,
)
from harness.models.backbones import BackboneConfig, BackboneStage


class CountThreads(Stage):
    """Writes the torch thread count it runs with."""

    kind = "count_threads"

    def run(self, ctx, inputs, out):
        (out / "threads.txt").write_text(str(torch.get_num_threads()))


def backbone(name: str) -> BackboneStage:
    return BackboneStage(BackboneConfig(name=name))


@pytest.mark.parametrize(("files", "quota"), [
    ({"cpu.max": "200000 100000\n"}, 2.0),
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3.0),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "garbage\n"}, None),
    ({}, None),
])
def test_the_cgroup_quota_is_read_from_v2_then_v1(tmp_path, files, quota):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cgroup_quota(tmp_path) == quota


def test_usable_cpus_is_the_smaller_of_affinity_and_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7}, raising=False)
    assert usable_cpus(tmp_path) == 8  # no quota
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    assert usable_cpus(tmp_path) == 2  # 2.5 CPUs of quota: two threads fit, a third would wait
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert usable_cpus(tmp_path) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    (tmp_path / "cpu.max").write_text("400000 100000\n")
    assert usable_cpus(tmp_path) == 1  # taskset to one core


def test_a_tiny_backbones_stages_get_one_thread_a_real_ones_the_usable_cpus(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr("harness.core.threads.usable_cpus", lambda: 6)
    tiny = CountThreads(inner=CountThreads(model=backbone("tiny-xlmr")))
    real = CountThreads(model=backbone("xlm-roberta-base"))
    assert uses_tiny_backbone(tiny) and not uses_tiny_backbone(real)
    assert (threads_for(tiny), threads_for(real), threads_for(CountThreads())) == (1, 6, 6)
    monkeypatch.setenv(THREADS_ENV, "3")
    assert (threads_for(tiny), threads_for(real)) == (3, 3)


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_setting_ends_run_before_planning_in_one_line(monkeypatch, value):
    monkeypatch.setenv(THREADS_ENV, value)
    result = CliRunner().invoke(cli, ["run", "suites/smoke.yaml", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {THREADS_ENV}={value!r} is not a thread count; valid: a whole number from 1, or "
        "unset (1 for tiny backbones, else the usable CPUs)"]


def test_a_stage_runs_with_its_count_which_its_manifest_keeps(tmp_path, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    before = torch.get_num_threads()
    cache = Cache(tmp_path)
    stage = CountThreads()
    path = cache.materialize(stage, StageContext(cache=cache))
    assert (path / "threads.txt").read_text() == "3"
    assert json.loads((path / "manifest.json").read_text())["threads"] == 3
    assert "threads" not in stage.identity()  # the count is how, not what: no key change
    assert torch.get_num_threads() == before


def test_passive_waiting_keeps_what_the_environment_says(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.delenv("KMP_BLOCKTIME", raising=False)
    passive_waiting()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE" and os.environ["KMP_BLOCKTIME"] == "0"
