"""A token-classification and a sentence-classification task from YAML, end to end on fixtures.

Both fixture tasks of ``fixtures/yaml_tasks`` (MasakhaNER's and SIB-200's layouts) with the
zero-shot baseline, MAD-X and UniBridge on a tiny XLM-R, through the CLI: every stage runs for
real, and each job's record carries the task's own metric and a score computed from its
predictions. The same examples scored by hand from the kept predictions give the same number.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.run.records import read_results
from harness.tasks.metrics import get_metric
from harness.tasks.predictions import read_predictions

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ADAPTERS = {"adaptation": {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4},
            "task_adapter": {"max_steps": 3, "batch_size": 4, "max_device_batch_size": 4}}
UNIBRIDGE = {**ADAPTERS, "vocab": {"start": 200, "step": 20, "max_size": 1500},
             "embeddings": {"fasttext_dim": 16}}
METHODS = {"zero_shot": {"training": {"max_steps": 3, "batch_size": 4, "max_device_batch_size": 4}},
           "mad_x": {**ADAPTERS, "source_adaptation": ADAPTERS["adaptation"]},
           "unibridge": UNIBRIDGE}
TASKS = {"yaml_ner": ("token", "f1"), "yaml_topics": ("sentence", "accuracy")}

pytestmark = pytest.mark.slow


def yaml_suite(tmp_path: Path) -> Path:
    """Both YAML tasks, target amh, sources eng and rus (so UniBridge weighs two sources)."""
    tasks = {name: {"definition": str(FIXTURES / "yaml_tasks" / folder / "task.yaml"),
                    "targets": ["amh"], "sources": ["eng", "rus"],
                    "data": {"path": str(FIXTURES / "yaml_tasks" / folder)}}
             for name, (folder, _) in TASKS.items()}
    payload = {"name": "yaml-e2e", "backbones": ["tiny-xlmr"], "tasks": tasks,
               "monolingual": {"data": {"path": str(FIXTURES / "monolingual")},
                               "target_samples": 14, "source_samples": 34, "words_per_sample": 32},
               "parallel": {"path": str(FIXTURES / "parallel")}, "methods": METHODS}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("yaml-e2e")
    suite, workdir = yaml_suite(tmp_path), tmp_path / "work"
    result = CliRunner().invoke(cli, ["run", str(suite), "--workdir", str(workdir), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return workdir


def test_every_method_scores_both_yaml_tasks(finished_run):
    records = read_results(finished_run / "results.jsonl")
    assert sorted((r.method, r.task) for r in records) == sorted(
        (method, task) for method in METHODS for task in TASKS)
    for record in records:
        assert record.metric == TASKS[record.task][1]
        assert math.isfinite(record.value) and 0.0 <= record.value <= 100.0
        assert record.details["n_examples"] == 16  # the amh test split of the fixture


def test_each_score_is_its_metric_of_the_per_example_counts(finished_run):
    for record in read_results(finished_run / "results.jsonl"):
        metric = get_metric(record.metric)
        counts = record.details["per_example"]  # an absent field is one per example (its docstring)
        assert counts and all(len(column) == 16 for column in counts.values())
        sums = np.array([sum(counts.get(field, [1] * 16)) for field in metric.fields])
        assert float(metric.from_sums(sums)) == pytest.approx(record.value)


def test_kept_predictions_are_labels_of_the_task_and_give_the_score(finished_run):
    token_task = yaml.safe_load((FIXTURES / "yaml_tasks" / "token" / "task.yaml").read_text())
    labels = {"yaml_ner": set(token_task["labels"]), "yaml_topics": {"short", "medium", "long"}}
    artifacts = sorted((finished_run / "cache" / "evaluation").glob("*/metrics.json"))
    assert len(artifacts) == len(METHODS) * len(TASKS)
    for path in artifacts:
        kept, scored = read_predictions(path.parent), json.loads(path.read_text())
        task = "yaml_ner" if isinstance(kept.gold[0], list) else "yaml_topics"
        flat = [tag for item in kept.predicted for tag in (item if task == "yaml_ner" else [item])]
        assert set(flat) <= labels[task] and scored["metric"] == TASKS[task][1]
        assert get_metric(scored["metric"]).score(kept.gold, kept.predicted) == pytest.approx(scored["value"])


def test_unibridge_weighs_both_sources_on_the_sentence_task(finished_run):
    [record] = [r for r in read_results(finished_run / "results.jsonl")
                if r.method == "unibridge" and r.task == "yaml_topics"]
    weights = record.details["weights"]
    assert set(weights) == {"eng", "rus"} and sum(weights.values()) == pytest.approx(1.0)


def test_the_report_has_a_results_table_per_yaml_task(finished_run):
    result = CliRunner().invoke(cli, ["report", str(finished_run)])
    assert result.exit_code == 0, result.output
    for task in TASKS:
        table = (finished_run / "tables" / f"results-{task}.md").read_text(encoding="utf-8")
        assert all(f"| {method}" in table for method in METHODS)
