"""Same suite, same seed, same machine -> the same numbers: in fresh processes, and after a kill.

Each run is a separate ``unibridge-bench run`` process, because some nondeterminism (hash-map
order seeded per process) shows only across processes. The suite passes through every stage
kind (corpus, backbone, vocabulary search, embedding initialisation, language adapters, task
adapters, harmony distances, fine-tuning, both evaluations), with trainings of several epochs
so that checkpoints exist to resume from. A run is SIGKILLed once a checkpoint of the named
stage kind appears (or as soon as that stage starts, if it finishes within an epoch), then
resumed; its records must equal an uninterrupted run's. The killed run starts from a copy of the
reference workdir less the named kind's entries and every entry built on them (and less the
records): the stages before them are read from the cache, as a resumed run reads them anyway,
so the trainings up to the named kind are not paid once more per test.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SMALL = {"batch_size": 8, "max_device_batch_size": 8}
UNIBRIDGE = {
    "vocab": {"start": 100, "step": 100, "max_size": 800},
    "embeddings": {"fasttext_dim": 16},
    "adaptation": {"epochs": 2, **SMALL},
    "task_adapter": {"epochs": 2, **SMALL},
}

pytestmark = pytest.mark.slow


def suite_file(tmp_path: Path) -> Path:
    payload = {
        "name": "repro",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng", "zho"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 48,
                        "source_samples": 48, "words_per_sample": 24},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {"zero_shot": {"training": {"epochs": 3, **SMALL}}, "unibridge": UNIBRIDGE},
    }
    path = tmp_path / "repro.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def command(suite: Path, workdir: Path) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", "run", str(suite), "--workdir", str(workdir),
            "--device", "cpu"]


def run_to_end(suite: Path, workdir: Path) -> dict:
    subprocess.run(command(suite, workdir), check=True, capture_output=True, timeout=900)
    return outcomes(workdir)


def outcomes(workdir: Path) -> dict:
    """Job id -> metric value, details and every stage's facts except timings."""
    records = {}
    for line in (workdir / "results.jsonl").read_text().splitlines():
        record = json.loads(line)
        facts = {role: {k: v for k, v in f.items() if k != "seconds"}
                 for role, f in record["stages"].items()}
        records[record["method"]] = (record["value"], record["details"], facts)
    return records


def without_kind(reference_workdir: Path, suite: Path, kind: str, target: Path) -> Path:
    """A copy of a finished workdir less ``kind``'s entries, every entry above them and the records."""
    from harness.cli.common import load_plan

    shutil.copytree(reference_workdir, target, symlinks=True)
    plan, removed = load_plan(suite), set()

    def visit(stage) -> bool:  # whether ``stage`` is of ``kind`` or built on one that is
        above = [visit(child) for child in stage.inputs.values()]
        if stage.kind == kind or any(above):
            removed.add((stage.kind, stage.key))
            return True
        return False

    for job in plan.jobs:
        visit(plan.build(job))
    assert any(found == kind for found, _ in removed), f"no {kind} stage in the suite"
    for found, key in removed:
        assert (target / "cache" / found / key).is_dir(), (found, key)  # the layout is as assumed
        shutil.rmtree(target / "cache" / found / key)
    shutil.rmtree(target / "results", ignore_errors=True)
    (target / "results.jsonl").unlink(missing_ok=True)
    return target


def kill_during(suite: Path, workdir: Path, kind: str) -> None:
    """Run until ``kind`` has written a checkpoint (or started), then SIGKILL the run."""
    process = subprocess.Popen(command(suite, workdir), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    stage_dir = workdir / "cache" / kind
    deadline = time.monotonic() + 600
    started = None
    while process.poll() is None and time.monotonic() < deadline:
        if list(stage_dir.glob(".partial-*/checkpoint-*/checkpoint-complete")):
            break
        if started is None and list(stage_dir.glob(".partial-*")):
            started = time.monotonic()
        if started is not None and time.monotonic() - started > 20:
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("repro")
    suite = suite_file(tmp_path)
    return suite, run_to_end(suite, tmp_path / "first"), tmp_path / "first"


def test_two_fresh_runs_give_identical_results(reference, tmp_path):
    suite, first, _ = reference
    assert set(first) == {"zero_shot", "unibridge"}
    assert run_to_end(suite, tmp_path / "second") == first


@pytest.mark.parametrize("kind", ["finetune", "language_adapter"])
def test_a_run_killed_during_training_resumes_to_the_same_results(reference, tmp_path, kind):
    suite, first, workdir = reference
    without_kind(workdir, suite, kind, tmp_path / "killed")
    kill_during(suite, tmp_path / "killed", kind)
    assert not (tmp_path / "killed" / "results.jsonl").exists() or outcomes(tmp_path / "killed") != first
    assert run_to_end(suite, tmp_path / "killed") == first
