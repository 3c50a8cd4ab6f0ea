"""Fixtures of the baseline tests: small suites over the shipped fixtures, planned not run."""

from pathlib import Path

import pytest
import yaml

from harness.planning import Plan, prepare
from harness.suite import load_suite

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TINY = {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4}


def smoke_like(methods: dict, backbones=("tiny-xlmr",), ner_targets=("amh",)) -> dict:
    """A suite over the fixtures with ``methods`` (name -> overrides)."""
    return {
        "name": "baselines-test", "seeds": [1], "backbones": list(backbones),
        "tasks": {"ner": {"targets": list(ner_targets), "sources": ["eng", "zho", "rus", "ara", "jpn"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 40,
                        "source_samples": 40, "words_per_sample": 16},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": methods,
    }


@pytest.fixture
def plan_of(tmp_path):
    """``plan_of(methods, **suite options)``: the validated Plan of a fixture suite."""

    def make(methods: dict, **options) -> Plan:
        path = tmp_path / "suite.yaml"
        path.write_text(yaml.safe_dump(smoke_like(methods, **options)), encoding="utf-8")
        return prepare(load_suite(path), check_data=False)

    return make


def stages_of(plan: Plan, method: str) -> dict[str, object]:
    """Every stage of ``method``'s jobs by key."""
    found = {}

    def visit(stage):
        found[stage.key] = stage
        for child in stage.inputs.values():
            visit(child)

    for job in plan.jobs:
        if job.method == method:
            visit(plan.build(job))
    return found


@pytest.fixture
def method_stages():
    """``method_stages(plan, method)``: every stage of the method's jobs by key."""
    return stages_of
