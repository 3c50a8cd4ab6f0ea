"""Helpers of the YAML-task tests: the fixture tasks and suite entries around them."""

from pathlib import Path

import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TOKEN = FIXTURES / "yaml_tasks" / "token"
SENTENCE = FIXTURES / "yaml_tasks" / "sentence"


def fixture_definition(folder: Path) -> dict:
    """The fixture task file of ``folder`` as a mapping."""
    return yaml.safe_load((folder / "task.yaml").read_text(encoding="utf-8"))


def task_entry(definition, data: Path, targets=("amh",), sources=("eng", "rus")) -> dict:
    """A suite's ``tasks.<name>`` entry: the definition (a path or a mapping) and local data."""
    return {"definition": str(definition) if isinstance(definition, Path) else definition,
            "targets": list(targets), "sources": list(sources), "data": {"path": str(data)}}
