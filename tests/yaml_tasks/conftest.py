"""Fixtures of the YAML-task tests: a suite file over the shipped fixtures."""

from pathlib import Path

import pytest
import yaml
from yaml_task_helpers import FIXTURES


@pytest.fixture
def suite_file(tmp_path):
    """``suite_file(tasks, methods=...)``: a suite file over the fixtures with these tasks."""

    def write(tasks: dict, methods=("zero_shot",)) -> Path:
        payload = {"name": "yaml-tasks", "backbones": ["tiny-xlmr"], "tasks": tasks,
                   "monolingual": {"data": {"path": str(FIXTURES / "monolingual")},
                                   "target_samples": 14, "source_samples": 34, "words_per_sample": 32},
                   "parallel": {"path": str(FIXTURES / "parallel")}, "methods": list(methods)}
        path = tmp_path / "suite.yaml"
        path.write_text(yaml.safe_dump(payload, allow_unicode=True), encoding="utf-8")
        return path

    return write

