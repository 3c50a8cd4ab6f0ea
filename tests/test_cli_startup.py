"""The light commands (--help, list, validate, plan) start without torch or transformers.

Each command runs in a fresh interpreter, as a user starts it, and reports which modules it
imported. (Their wall time is measured in benchmarks/cli_startup.py, never asserted here.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"torch", "transformers", "adapters", "datasets", "sklearn"}
PROBE = """
import json, sys
{prelude}
from harness.cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit as done:
    code = done.code
print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""


def heavy_imports(*command: str, prelude: str = "") -> list[str]:
    """The model libraries imported by ``unibridge-bench COMMAND`` in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", PROBE.format(prelude=prelude), *command],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return sorted(HEAVY & set(report["modules"]))


@pytest.mark.parametrize("command", [
    ["--help"], ["list"], ["run", "--help"], ["report", "--help"], ["vocab-search", "--help"],
    ["init-embeddings", "--help"], ["validate", "suites/smoke.yaml"], ["plan", "suites/smoke.yaml"],
    ["verify", "--help"],
], ids=" ".join)
def test_light_commands_import_no_model_library(command):
    assert heavy_imports(*command) == []


def test_the_probe_sees_a_model_library_when_one_is_imported():
    """The check above can fail: the stage-3 training step does import torch and transformers."""
    imported = heavy_imports("--help", prelude="import harness.methods.unibridge.adaptation_trainer")
    assert {"torch", "transformers"} <= set(imported)
