"""A YAML task's stages run in Ray workers, which rebuild the task from the stage config alone."""

from pathlib import Path

import pytest
import yaml
from yaml_task_helpers import FIXTURES, SENTENCE, task_entry

from harness.planning.plan import prepare
from harness.run.records import RESULTS_FILE, read_results
from harness.run.runner import RunOptions, run_jobs
from harness.suite.schema import load_suite

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def sentence_suite(tmp_path: Path) -> Path:
    """The sentence fixture task, from a task file the workers never read, zero-shot, 3 steps."""
    definition = tmp_path / "definitions" / "topics.yaml"
    definition.parent.mkdir()
    definition.write_text((SENTENCE / "task.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    payload = {"name": "yaml-ray", "backbones": ["tiny-xlmr"],
               "tasks": {"yaml_topics": task_entry(definition, SENTENCE, sources=("eng",))},
               "monolingual": {"data": {"path": str(FIXTURES / "monolingual")},
                               "target_samples": 14, "source_samples": 34, "words_per_sample": 32},
               "methods": {"zero_shot": {"training": {"max_steps": 3, "batch_size": 4,
                                                      "max_device_batch_size": 4}}}}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def test_ray_workers_score_a_yaml_task_as_the_local_executor(local_ray, tmp_path):
    suite = sentence_suite(tmp_path)
    plan = prepare(load_suite(suite))
    (tmp_path / "definitions" / "topics.yaml").unlink()  # the configs carry the whole definition
    values = {}
    for executor in ("local", "ray"):
        report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / executor, executor=executor,
                                                      progress=False))
        assert report.failures == [] and report.cached == 0
        [record] = read_results(tmp_path / executor / RESULTS_FILE)
        values[executor] = (record.task, record.metric, record.value, record.details["per_example"])
    assert values["ray"] == values["local"] and values["local"][:2] == ("yaml_topics", "accuracy")
