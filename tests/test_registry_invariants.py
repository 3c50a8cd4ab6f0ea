"""Invariants every registry entry keeps, one test per entry (generated from the registries).

Every method × every tiny backbone × every task the method supports — the registered tasks and
one YAML task of every registered task kind (the fixtures' task files, fixtures/yaml_tasks), with
:meth:`harness.methods.base.Method.incompatibility` deciding, so that a task or kind added to a
registry is covered without touching this file: a description, a Config that validates with
its defaults, and a stage graph, built against a one-job suite without training or reading
data, that ends in an evaluation stage scoring that job's target. Every table: a description,
and it renders on an empty result set (or says it has nothing to show).
"""

from pathlib import Path

import pytest
import yaml

from harness.methods.build_env import EVAL_SPLIT
from harness.methods.catalog import METHODS
from harness.models.backbones import BACKBONES
from harness.planning.plan import Plan
from harness.report.build import FilledTable, RunData, fill
from harness.report.catalog import TABLES
from harness.report.render import FORMATS
from harness.report.render import render as render_filled
from harness.report.specs import TableSpec
from harness.report.tables import Table
from harness.report.tables import render as render_table
from harness.suite.schema import Job, Suite
from harness.tasks.from_yaml.kinds import TASK_KINDS
from harness.tasks.specs import TASKS, get_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: Fixture data of the tasks that have some; any other task gets a folder that does not exist,
#: which the provisional build below records instead of reading (the graph's shape needs no data).
TASK_DATA = {"ner": FIXTURES / "wikiann", "pos": FIXTURES / "ud", "nli": FIXTURES / "nli"}
TARGET, SOURCES = "amh", ("eng", "zho")
TINY = [name for name in BACKBONES.names() if BACKBONES.get(name).tiny]
#: One YAML task per fixture task file: name -> (definition, its own target and sources).
YAML_TASKS = {
    definition["task"]: (definition, [lang for lang in definition["languages"]
                                      if lang not in SOURCES + ("rus", "ara", "jpn")][:1],
                         [lang for lang in SOURCES + ("rus",) if lang in definition["languages"]])
    for definition in (yaml.safe_load(path.read_text())
                       for path in sorted((FIXTURES / "yaml_tasks").glob("*/task.yaml")))
}


def task_entry(task: str, tmp_path: Path) -> dict:
    """The suite's entry of ``task``: a registered task, or a fixture YAML task (inline)."""
    if task in YAML_TASKS:
        definition, targets, sources = YAML_TASKS[task]
        return {"definition": definition, "targets": targets, "sources": sources,
                "data": {"path": str(tmp_path / "no-data")}}
    return {"targets": [TARGET], "sources": list(SOURCES),
            "data": {"path": str(TASK_DATA.get(task, tmp_path / "no-data"))}}


def task_of(name: str):
    """The TaskSpec of a registered or fixture YAML task (for ``incompatibility``)."""
    if name in YAML_TASKS:
        payload = suite_payload("zero_shot", "tiny-xlmr", name, Path("/nonexistent"))
        return get_task(Suite.model_validate(payload).task_ref(name))
    return get_task(name)


def all_tasks() -> list[str]:
    return [*TASKS.names(), *YAML_TASKS]


def default_method(name: str):
    cls = METHODS.get(name)
    return cls(name, cls.Config())


def supported_cases() -> list:
    """(method, backbone, task) for every pair of a tiny backbone and a task the method supports."""
    cases = []
    for method in METHODS.names():
        instance = default_method(method)
        for backbone in TINY:
            for task in all_tasks():
                if instance.incompatibility(BACKBONES.get(backbone).arch, task_of(task)) is None:
                    cases.append(pytest.param(method, backbone, task, id=f"{method}-{backbone}-{task}"))
    return cases


def suite_payload(method: str, backbone: str, task: str, tmp_path: Path) -> dict:
    return {
        "name": "invariants",
        "backbones": [backbone],
        "tasks": {task: task_entry(task, tmp_path)},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {method: {}},
        "path": tmp_path / "invariants.yaml",
    }


def one_job_suite(method: str, backbone: str, task: str, tmp_path: Path) -> Suite:
    return Suite.model_validate(suite_payload(method, backbone, task, tmp_path))


def test_every_task_kind_has_a_fixture_task():
    kinds = {definition["kind"] for definition, _, _ in YAML_TASKS.values()}
    assert kinds == set(TASK_KINDS.names())


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_is_described_and_validates_with_its_defaults(method):
    assert METHODS.describe(method).strip()
    instance = default_method(method)  # a ValidationError here fails the test
    assert instance.config == METHODS.get(method).Config.model_validate(instance.config.model_dump())


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_runs_on_some_tiny_backbone(method):
    instance = default_method(method)
    archs = {BACKBONES.get(backbone).arch for backbone in TINY}
    assert any(instance.incompatibility(arch, task_of(task)) is None
               for arch in archs for task in all_tasks())


@pytest.mark.parametrize(("method", "backbone", "task"), supported_cases())
def test_the_stage_graph_ends_in_an_evaluation_of_the_job(method, backbone, task, tmp_path):
    suite = one_job_suite(method, backbone, task, tmp_path)
    job = Job(method, backbone, task, suite.tasks[task].targets[0], 1)
    plan = Plan(suite, {method: default_method(method)}, [job], provisional_data=True)
    final = plan.build(job)
    assert final.kind == "evaluation"
    scored = [(read.task, read.lang, read.splits) for read in final.config.data_reads()]
    assert (suite.task_ref(task), job.lang, (EVAL_SPLIT,)) in scored
    assert final.key  # the whole graph hashes: every config and input is serialisable


def render_empty(entry) -> list[str]:
    """Every format of a table entry filled from no records (None entries: nothing to show)."""
    if isinstance(entry, TableSpec):
        filled = fill(entry, RunData(records=()))
        assert isinstance(filled, FilledTable) and not filled.has_results
        return [render_filled(filled, fmt) for fmt in FORMATS]
    try:
        tables = [entry([])]
    except TypeError:  # the per-task results table takes the task too
        tables = [entry([], task) for task in TASKS.names()]
    rendered = []
    for table in tables:
        assert table is None or isinstance(table, Table)
        if table is not None:
            assert table.rows == ()
            rendered += [render_table(table, fmt) for fmt in ("md", "tex", "csv", "html")]
    return rendered


@pytest.mark.parametrize("table", TABLES.names())
def test_every_table_is_described_and_renders_without_results(table):
    assert TABLES.describe(table).strip()
    for text in render_empty(TABLES.get(table)):
        assert isinstance(text, str) and text.strip()
