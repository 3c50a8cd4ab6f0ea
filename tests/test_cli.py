"""The command line: messages a user can act on, exit codes, dry run."""

import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def mini_suite(tmp_path, **changes) -> Path:
    payload = {
        "name": "mini",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng", "zho"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "methods": {"zero_shot": {}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}},
        "parallel": {"path": str(FIXTURES / "parallel")},
    }
    payload.update(changes)
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_validate_ok(tmp_path):
    result = invoke("validate", mini_suite(tmp_path))
    assert result.exit_code == 0, result.output
    assert "ok (1 jobs)" in result.output


@pytest.mark.parametrize("change, expected", [
    ({"methods": {"unibrige": {}}}, "unknown method 'unibrige'. Did you mean 'unibridge'?"),
    ({"backbones": ["tiny-xlm"]}, "unknown backbone 'tiny-xlm'"),
    ({"methods": {"zero_shot": {"training": {"epochs": -1}}}}, "methods.zero_shot.training.epochs"),
    ({"methods": {"zero_shot": {"trainin": {}}}}, "methods.zero_shot.trainin: unknown key. Did you mean "
     "'training'? Valid keys: backbones, training, max_length, eval_batch_size"),
    ({"tasks": {"nerr": {"targets": ["amh"], "data": {"path": "."}}}}, "unknown task 'nerr'"),
])
def test_bad_input_gives_one_clear_message(tmp_path, change, expected):
    path = mini_suite(tmp_path, **change)
    result = invoke("validate", path, "--no-data-check")
    assert result.exit_code == 2
    assert expected in result.output and str(path) in result.output
    assert "Traceback" not in result.output


def test_missing_data_names_path_and_key(tmp_path):
    tasks = {"ner": {"targets": ["amh"], "sources": ["eng"], "data": {"path": str(tmp_path / "nowhere")}}}
    result = invoke("validate", mini_suite(tmp_path, tasks=tasks))
    assert result.exit_code == 2
    assert "tasks.ner.data" in result.output and "nowhere" in result.output


def test_bad_only_filter(tmp_path):
    result = invoke("run", mini_suite(tmp_path), "--only", "language=amh", "--dry-run")
    assert result.exit_code == 2 and "KEY one of method, backbone, task, lang, seed" in result.output


def test_dry_run_lists_jobs_without_running(tmp_path):
    result = invoke("run", mini_suite(tmp_path), "--dry-run", "--workdir", tmp_path / "w")
    assert result.exit_code == 0, result.output
    assert "to run  zero_shot/tiny-xlmr/ner/amh/seed1" in result.output
    assert not (tmp_path / "w").exists()


def test_list_methods():
    result = invoke("list", "methods")
    assert result.exit_code == 0
    assert "unibridge_no_kl" in result.output and "zero_shot" in result.output


@pytest.mark.parametrize("kind", ["suites", "methods", "backbones", "tasks", "tables", "executors"])
def test_list_gives_every_entry_its_description(kind):
    from harness.cli.suites import named_suites
    from harness.methods.catalog import METHODS
    from harness.models.backbones import BACKBONES
    from harness.report.catalog import TABLES
    from harness.run.executors.catalog import EXECUTORS
    from harness.tasks.specs import TASKS

    names = {"suites": list(named_suites()), "methods": METHODS.names(), "backbones": BACKBONES.names(),
             "tasks": TASKS.names(), "tables": TABLES.names(), "executors": EXECUTORS.names()}[kind]
    lines = invoke("list", kind).output.splitlines()
    assert lines[0] == f"{kind}:" and len(lines) == 1 + len(names)
    for name, line in zip(names, lines[1:]):
        entry, _, description = line.strip().partition("  ")
        assert entry == name and len(description.strip()) > 10, line
    if kind == "suites":
        described = dict(line.split(None, 1) for line in lines[1:])
        assert described["smoke"].startswith("all methods on tiny backbones")


def test_a_suite_named_as_list_shows_it_runs_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no suites/ here: the harness's own suites/smoke.yaml is found
    result = invoke("run", "smoke", "--dry-run", "--only", "method=zero_shot", "--workdir", tmp_path / "w")
    assert result.exit_code == 0, result.output
    assert "to run  zero_shot/tiny-xlmr/ner/amh/seed1" in result.output


def test_a_suite_that_is_neither_file_nor_name_lists_the_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("plan", "smok")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'smok': no such file and no suite of that name; named suites: americasnli, americasnli_authors, smoke" in result.output


@pytest.mark.parametrize("name", [*cli.list_commands(None), None])
def test_every_command_help_shows_its_example_cleanly(name):
    result = invoke(*([name] if name else []), "--help")
    assert result.exit_code == 0 and "\\b" not in result.output
    example = result.output.split("Example:")[1].splitlines()
    assert example[0] == "" and example[1].lstrip().startswith("unibridge-bench ")  # own line


def test_unreachable_hub_dataset_fails_validation_with_the_local_form(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    tasks = {"ner": {"targets": ["amh"], "sources": ["eng"], "data": {"hub": "unimelb-nlp/wikiann"}}}
    result = invoke("validate", mini_suite(tmp_path, tasks=tasks))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "tasks.ner.data (hub unimelb-nlp/wikiann): not here, and not downloadable here (" \
        in result.output
    assert "`<key>: {path: DIR}` for data" in result.output  # the 'to do:' line


def test_ray_executor_without_ray_installed_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    result = invoke("run", mini_suite(tmp_path), "--workdir", tmp_path / "work", "--device", "cpu",
                    "--executor", "ray")
    assert result.exit_code == 2
    assert "needs Ray" in result.output and "unibridge-bench[ray]" in result.output
    assert "Traceback" not in result.output
