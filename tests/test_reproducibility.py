"""Same suite, same seed, same machine -> the same numbers: in fresh processes, and after a kill.

Each run is a separate ``unibridge-bench run`` process, because some nondeterminism (hash-map
order seeded per process) shows only across processes. The suite passes through every stage
kind (corpus, backbone, vocabulary search, embedding initialisation, language adapters, task
adapters, harmony distances, fine-tuning, both evaluations), with trainings of several epochs
so that checkpoints exist to resume from. A run is SIGKILLed once a checkpoint of the named
stage kind appears (or as soon as that stage starts, if it finishes within an epoch), then
resumed; its records must equal an uninterrupted run's.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
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
    return suite, run_to_end(suite, tmp_path / "first")


def test_two_fresh_runs_give_identical_results(reference, tmp_path):
    suite, first = reference
    assert set(first) == {"zero_shot", "unibridge"}
    assert run_to_end(suite, tmp_path / "second") == first


@pytest.mark.parametrize("kind", ["finetune", "language_adapter"])
def test_a_run_killed_during_training_resumes_to_the_same_results(reference, tmp_path, kind):
    suite, first = reference
    kill_during(suite, tmp_path / "killed", kind)
    assert not (tmp_path / "killed" / "results.jsonl").exists() or outcomes(tmp_path / "killed") != first
    assert run_to_end(suite, tmp_path / "killed") == first
