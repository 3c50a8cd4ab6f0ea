"""Whole-suite runs that several test modules read: their suites, and how they are run.

Each is run once per test session by a session fixture of ``tests/conftest.py`` (``reduced_run``,
``logged_selection_run``); a test that writes into a run's workdir takes a private copy with the
``copy_workdir`` fixture, so that no test's outcome depends on another's or on their order.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from harness.run.records import RESULTS_FILE, read_results

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
STEPS = {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4}


def reduced_suite(folder: Path) -> Path:
    """Tiny XLM-R, NER on Amharic with English as the one source, the zero-shot baseline and
    UniBridge without multi-source transfer, a few steps each: two jobs, every UniBridge stage."""
    payload = {
        "name": "reduced",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 120,
                        "source_samples": 120, "words_per_sample": 24},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {
            "zero_shot": {"training": STEPS},
            "unibridge_no_multi_source": {
                "vocab": {"start": 100, "step": 100, "max_size": 800},
                "embeddings": {"fasttext_dim": 16}, "adaptation": STEPS, "task_adapter": STEPS},
        },
    }
    path = folder / "reduced.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def cli(*args: object) -> subprocess.CompletedProcess:
    """``unibridge-bench *args`` in a fresh interpreter, stdout and stderr pipes (as a log file)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)


#: A reduced smoke selection: zero-shot, tiny XLM-R, NER and POS (two jobs).
SELECTION = ["--only", "backbone=tiny-xlmr", "--only", "method=zero_shot", "--only", "task=ner",
             "--only", "task=pos", "--device", "cpu"]
FIRST_JOB = "INFO harness.run.progress: job 1/2 finished: zero_shot/tiny-xlmr/ner/amh/seed1; "


def logged_selection_run(folder: Path):
    """Run :data:`SELECTION` of suites/smoke.yaml with stdout and stderr into one file; read it
    whenever it grows.

    Returns the file's text when the first job's line appeared, whether the process still
    ran then, the text once it ended, its exit code and the workdir.
    """
    workdir, log_file = folder / "work", folder / "run.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")  # stdout too as it is said
    with open(log_file, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "harness.cli.main", "run", "suites/smoke.yaml",
                                    "--workdir", str(workdir), *SELECTION],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            seen, running, deadline = None, None, time.monotonic() + 900
            while seen is None and time.monotonic() < deadline:
                running = process.poll() is None  # before the read: still running when it was read
                text = log_file.read_text()
                if FIRST_JOB in text:
                    seen = text
                elif not running:
                    break
                time.sleep(0.1)
            code = process.wait(timeout=900)
        finally:
            if process.poll() is None:
                process.kill()
    return seen, running, log_file.read_text(), code, workdir


def two_target_suite(tmp_path: Path, name: str) -> Path:
    """One tiny backbone, one task with two targets, the zero-shot baseline, a few steps.

    Executors are compared on it (tests/test_local_workers.py, tests/test_ray_executor.py).
    """
    payload = {
        "name": name,
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh", "tgl"], "sources": ["eng"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 48,
                        "source_samples": 48, "words_per_sample": 24},
        "methods": {"zero_shot": {"training": {"max_steps": 3, "batch_size": 4,
                                               "max_device_batch_size": 4}}},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def outcomes(workdir: Path) -> dict:
    """Job id -> value, details and every stage's facts except timings."""
    records = {}
    for record in read_results(workdir / RESULTS_FILE):
        facts = {role: {k: v for k, v in f.items() if k != "seconds"} for role, f in record.stages.items()}
        records[record.job_id] = (record.value, record.details, facts)
    return records
