"""Ctrl-C and SIGTERM: a ``run`` process stops with one line saying what finished and how to
resume, keeps ``results.jsonl`` for the finished jobs, and the printed command finishes the rest."""

import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from harness.cli.stopping import resume_command
from harness.run.records import read_results

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = {"batch_size": 4, "max_device_batch_size": 4}


def two_job_suite(tmp_path: Path) -> Path:
    """A quick zero-shot job, then a UniBridge job long enough to be stopped in."""
    payload = {
        "name": "stop",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 48,
                        "source_samples": 48, "words_per_sample": 24},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {"zero_shot": {"training": {"max_steps": 2, **SMALL}},
                    "unibridge": {"vocab": {"start": 100, "step": 100, "max_size": 400},
                                  "embeddings": {"fasttext_dim": 8},
                                  "adaptation": {"max_steps": 20, **SMALL},
                                  "task_adapter": {"max_steps": 2, **SMALL}}},
    }
    path = tmp_path / "stop.yaml"
    path.write_text(yaml.safe_dump(payload, sort_keys=False))  # jobs in method order
    return path


def cli(*words: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *words]


def stop_after_first_record(command: list[str], workdir: Path, signum: int):
    """Start ``command``, send ``signum`` once the first job's record exists; (exit code, stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        if list((workdir / "results").glob("*.json")):
            process.send_signal(signum)
            break
        time.sleep(0.2)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "cause"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_a_stopped_run_says_what_finished_and_the_printed_command_resumes_it(tmp_path, signum, cause):
    suite, workdir = two_job_suite(tmp_path), tmp_path / "work"
    code, stderr = stop_after_first_record(
        cli("run", str(suite), "--workdir", str(workdir), "--device", "cpu"), workdir, signum)
    assert code == 128 + signum, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"stopped by {cause}: 1 of 2 jobs finished (results in {workdir}/results.jsonl)")
    assert "Traceback" not in stderr
    assert [r.method for r in read_results(workdir / "results.jsonl")] == ["zero_shot"]
    assert not list((workdir / "cache").rglob(".tmp-*"))
    resume = shlex.split(last.split("resume with: ")[1])
    assert resume[:2] == ["unibridge-bench", "run"]
    if signum == signal.SIGTERM:  # once is enough: the resumed run finishes the other job
        subprocess.run(cli(*resume[1:]), check=True, capture_output=True, timeout=900)
        assert sorted(r.method for r in read_results(workdir / "results.jsonl")) == ["unibridge", "zero_shot"]


def test_resume_command_repeats_the_selection_and_quotes_paths():
    command = resume_command(Path("my suites/x.yaml"), Path("runs/x"),
                             {"only": ("lang=amh", "method=unibridge"), "device": "cuda", "seed": None})
    assert shlex.split(command) == ["unibridge-bench", "run", "my suites/x.yaml", "--workdir", "runs/x",
                                    "--only", "lang=amh", "--only", "method=unibridge", "--device", "cuda"]


#: Appended to the example's majority.py: a method whose stage loses a SIGTERM while it runs.
LOSING_PLUGIN = '''

class LosingStage(MajorityEvaluationStage):
    """Sends this process a SIGTERM from a weakref callback, where its exception is dropped."""

    def run(self, ctx, inputs, out):
        import os
        import signal
        import weakref

        class Owner:
            pass

        def callback(_):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass

        owner = Owner()
        reference = weakref.ref(owner, callback)
        del owner
        super().run(ctx, inputs, out)


class LosingMethod(MajorityLabel):
    def build(self, job, env):
        stage = super().build(job, env)
        return LosingStage(stage.config)


def register(registries):
    registries.methods.register("majority_losing_a_stop", LosingMethod)
'''


@pytest.mark.slow
def test_a_sigterm_whose_exception_was_dropped_still_stops_the_run(tmp_path):
    """The signal arrives inside a weakref callback (Python prints the exception and carries on)."""
    included = tmp_path / "included"
    included.mkdir()
    majority = Path(__file__).parent / "plugin_example" / "included" / "majority.py"
    # the appended register() replaces majority.py's own
    (included / "losing.py").write_text(majority.read_text() + LOSING_PLUGIN)
    suite = yaml.safe_load(two_job_suite(tmp_path).read_text())
    suite["methods"] = {"majority_losing_a_stop": {}}
    suite["include"] = str(included)
    (tmp_path / "stop.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    workdir = tmp_path / "work"
    command = cli("run", str(tmp_path / "stop.yaml"), "--workdir", str(workdir), "--device", "cpu")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert "Exception ignored" in done.stderr  # the fault happened
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("stopped by SIGTERM: 1 of 1 jobs finished")
    assert [r.method for r in read_results(workdir / "results.jsonl")] == ["majority_losing_a_stop"]
