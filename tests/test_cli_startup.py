"""The light commands (--help, list, validate, plan) start without torch or transformers.

Each command runs in a fresh interpreter, as a user starts it, and reports which modules it
imported. ``--help`` imports no command's module (harness/cli/lazy.py) and ``list`` none of
pydantic, the engine or the data modules. (Their wall time is measured in
benchmarks/cli_startup.py, never asserted here.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.utils import make_default_short_help

from harness.cli.main import COMMANDS, cli

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


def imported_modules(*command: str, prelude: str = "", exit_code: int = 0) -> set[str]:
    """Every module imported by ``unibridge-bench COMMAND`` (exiting ``exit_code``), run afresh."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", PROBE.format(prelude=prelude), *command],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["code"] or 0) == exit_code, done.stderr
    return set(report["modules"])


def heavy_imports(*command: str, prelude: str = "") -> list[str]:
    """The model libraries imported by ``unibridge-bench COMMAND`` in a fresh interpreter."""
    return sorted(HEAVY & imported_modules(*command, prelude=prelude))


def imported(modules: set[str], names: set[str]) -> list[str]:
    """Those of ``names`` in ``modules``, or with a submodule there (``pydantic``: ``pydantic.main`` too)."""
    return sorted(name for name in names
                  if name in modules or any(module.startswith(f"{name}.") for module in modules))


#: Not imported by the group's --help: any command's module, nor what they import.
NOT_FOR_HELP = {*(target.split(":")[0] for target, _ in COMMANDS.values()), "harness.cli.common",
                "pydantic", "yaml", "numpy", "datasets", "huggingface_hub", "tabulate",
                "harness.core", "harness.suite", "harness.plugins"}
#: Not imported by list: pydantic, the engine, suites, data sources, stages, the other commands.
NOT_FOR_LIST = {"pydantic", "numpy", "datasets", "huggingface_hub", "filelock", "tokenizers",
                "tabulate", "harness.core.config", "harness.core.graph", "harness.suite",
                "harness.data.source", "harness.models.backbones", "harness.tasks.from_yaml.schema",
                *(target.split(":")[0] for name, (target, _) in COMMANDS.items() if name != "list")}


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


@pytest.mark.parametrize(("command", "exit_code"), [
    (["--help"], 0), (["-h"], 0), (["--version"], 0), ([], 2), (["lst"], 2),  # 2: a usage error
], ids=["--help", "-h", "--version", "no arguments", "a mistyped command"])
def test_the_group_alone_imports_no_command(command, exit_code):
    assert imported(imported_modules(*command, exit_code=exit_code), NOT_FOR_HELP) == []


@pytest.mark.parametrize("command", [["list"], ["list", "methods"], ["list", "--help"]], ids=" ".join)
def test_list_imports_neither_pydantic_nor_the_engine(command):
    modules = imported_modules(*command)
    assert imported(modules, NOT_FOR_LIST) == []
    if command != ["list", "--help"]:  # it still reads the registries it lists
        assert "harness.methods.catalog" in modules
    if command == ["list"]:
        assert {"harness.models.backbone_specs", "harness.tasks.specs", "yaml"} <= modules


def test_the_probe_sees_pydantic_and_a_command_when_they_are_imported():
    """The checks above can fail: running a command imports its module, and validate imports pydantic."""
    modules = imported_modules("validate", "suites/smoke.yaml", "--no-data-check")
    assert {"pydantic", "harness.cli.validate", "harness.core.graph"} <= modules
    assert "harness.cli.validate" in imported(modules, NOT_FOR_HELP)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_groups_summary_of_each_command_is_its_own(name):
    """--help shows the table's summary (no import); it must shorten to the command's own."""
    command = cli.get_command(click.Context(cli), name)
    for limit in (30, 45, 60, 200):
        assert make_default_short_help(COMMANDS[name][1], limit) == command.get_short_help_str(limit)
