"""A run stopped at each boundary of a training stage resumes to records identical to an
uninterrupted run's: after each checkpoint (the last one included), while its artifact is
published into the cache, and while the results are written.

Faults are injected (a ``KeyboardInterrupt`` raised at the boundary, as a kill there would
stop the run), not timed. The stages are MAD-X's language adapters on tiny XLM-R with a step
cap one step into their second epoch: a checkpoint at the end of the first epoch and one at the
cap, mid-epoch, from which the Trainer on resume used to train a step more (issue 21.1).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from harness.core.graph import Cache
from harness.core.workdir import NoSpaceError
from harness.planning.plan import prepare
from harness.run.records import read_results
from harness.run.runner import CACHE_DIR, RunOptions, run_jobs
from harness.suite.schema import Suite
from harness.training.callbacks import MarkCheckpointComplete
from tests.test_workdir_faults import torch_save_into_full_disk

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BATCH = 8
ADAPTER = "language_adapter"


def mad_x_suite(max_steps: int) -> Suite:
    small = {"batch_size": BATCH, "max_device_batch_size": BATCH}
    adaptation = {"beta": 0.0, "epochs": 2, "max_steps": max_steps, **small}  # target and English
    return Suite.model_validate({
        "name": "boundaries", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 24,
                        "source_samples": 24, "words_per_sample": 16},
        "methods": {"mad_x": {"adaptation": adaptation, "source_adaptation": adaptation,
                              "task_adapter": {"max_steps": 1, **small}}},
    })


def comparable(workdir: Path) -> list[dict]:
    """The records without their timings (seconds differ between any two runs)."""
    return [r.model_dump(exclude={"seconds"}) for r in read_results(workdir / "results.jsonl")]


def steps_per_epoch(workdir: Path) -> set[int]:
    """Optimisation steps per epoch of each language adapter built in ``workdir``."""
    return {math.ceil(json.loads(path.read_text())["n_examples"] / BATCH)
            for path in (workdir / CACHE_DIR / ADAPTER).glob("*/training.json")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run (steps per epoch measured first): (workdir, plan, checkpoint steps)."""
    root = tmp_path_factory.mktemp("reference")
    plan = prepare(mad_x_suite(1))
    assert run_jobs(plan, plan.jobs, RunOptions(root / "probe", progress=False)).failures == []
    (per_epoch,) = steps_per_epoch(root / "probe")  # both corpora hold the same number of samples
    saved: list[int] = []
    original = MarkCheckpointComplete.on_save

    def spy(self, args, state, control, **kwargs):
        if f"/{ADAPTER}/" in args.output_dir:
            saved.append(state.global_step)
        return original(self, args, state, control, **kwargs)

    plan = prepare(mad_x_suite(per_epoch + 1))
    MarkCheckpointComplete.on_save = spy
    try:
        report = run_jobs(plan, plan.jobs, RunOptions(root / "whole", progress=False))
    finally:
        MarkCheckpointComplete.on_save = original
    assert report.failures == [] and saved == [per_epoch, per_epoch + 1] * 2
    return root / "whole", plan, saved[:2]


def seeded_workdir(reference_dir: Path, target: Path) -> Path:
    """A workdir holding the reference's tiny backbone only (built once, not per test)."""
    shutil.copytree(reference_dir / CACHE_DIR / "backbone", target / CACHE_DIR / "backbone")
    return target


def stop_then_resume(reference, tmp_path, monkeypatch, inject) -> Path:
    workdir, plan, _ = reference
    cut = seeded_workdir(workdir, tmp_path / "cut")
    with monkeypatch.context() as patch:
        inject(patch)
        with pytest.raises(KeyboardInterrupt):
            run_jobs(plan, plan.jobs, RunOptions(cut, progress=False))
    report = run_jobs(plan, plan.jobs, RunOptions(cut, progress=False))
    assert report.failures == []
    return cut


@pytest.mark.parametrize("which", [0, 1], ids=["after the first checkpoint", "after the last"])
def test_stopped_after_a_checkpoint(reference, tmp_path, monkeypatch, which):
    step = reference[2][which]
    original = MarkCheckpointComplete.on_save

    def stop_after(self, args, state, control, **kwargs):
        original(self, args, state, control, **kwargs)
        if f"/{ADAPTER}/" in args.output_dir and state.global_step == step:
            raise KeyboardInterrupt

    cut = stop_then_resume(reference, tmp_path, monkeypatch,
                           lambda patch: patch.setattr(MarkCheckpointComplete, "on_save", stop_after))
    assert comparable(cut) == comparable(reference[0])
    adapters = [facts["steps"] for facts in comparable(cut)[0]["stages"].values()
                if facts["kind"] == ADAPTER]
    assert adapters == [reference[2][-1]] * 2


@pytest.mark.parametrize("moment", ["before", "after"])
def test_stopped_while_publishing(reference, tmp_path, monkeypatch, moment):
    original = Cache._publish

    def publish(tmp, final):
        if final.parent.name == ADAPTER and moment == "before":
            raise KeyboardInterrupt
        original(tmp, final)
        if final.parent.name == ADAPTER:
            raise KeyboardInterrupt

    cut = stop_then_resume(reference, tmp_path, monkeypatch,
                           lambda patch: patch.setattr(Cache, "_publish", staticmethod(publish)))
    assert comparable(cut) == comparable(reference[0])
    assert not list((cut / CACHE_DIR).glob("*/.partial-*"))  # no checkpoints left behind
    assert not list((cut / CACHE_DIR).glob("*/.tmp-*"))


@pytest.mark.parametrize("writer", ["write_record", "aggregate"])
def test_stopped_while_writing_results(reference, tmp_path, monkeypatch, writer):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    cut = stop_then_resume(reference, tmp_path, monkeypatch,
                           lambda patch: patch.setattr(f"harness.run.runner.{writer}", stop))
    assert comparable(cut) == comparable(reference[0])


def test_a_full_disk_while_checkpointing_stops_once_and_resumes(reference, tmp_path, monkeypatch):
    """The Trainer's torch.save of a checkpoint meets a full disk: one NoSpaceError naming the
    stage; the cut-off checkpoint is discarded on resume and the records are the same."""
    workdir, plan, _ = reference
    cut = seeded_workdir(workdir, tmp_path / "cut")
    with monkeypatch.context() as patch:
        torch_save_into_full_disk(patch)
        with pytest.raises(NoSpaceError, match=f"of {cut / CACHE_DIR} while building {ADAPTER} for"):
            run_jobs(plan, plan.jobs, RunOptions(cut, progress=False))
    assert not [p for p in cut.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-")]
    assert run_jobs(plan, plan.jobs, RunOptions(cut, progress=False)).failures == []
    assert comparable(cut) == comparable(workdir)
