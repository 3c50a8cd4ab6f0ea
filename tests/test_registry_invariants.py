"""Invariants every registry entry keeps, one test per entry (generated from the registries).

Every method × every tiny backbone × every registered task the method supports
(:meth:`harness.methods.Method.incompatibility`, so that a task added to the registry is covered
without touching this file): a description, a Config that validates with its defaults, and a
stage graph, built against a one-job suite without training or reading data, that ends in an
evaluation stage scoring that job's target. Every table: a description, and it renders on an
empty result set (or says it has nothing to show).
"""

from pathlib import Path

import pytest

from harness.backbones import BACKBONES
from harness.catalog import METHODS, TABLES
from harness.planning import EVAL_SPLIT, Plan
from harness.report.build import FilledTable, RunData, fill
from harness.report.render import FORMATS
from harness.report.render import render as render_filled
from harness.report.specs import TableSpec
from harness.report.tables import Table
from harness.report.tables import render as render_table
from harness.suite import Job, Suite
from harness.tasks import TASKS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: Fixture data of the tasks that have some; any other task gets a folder that does not exist,
#: which the provisional build below records instead of reading (the graph's shape needs no data).
TASK_DATA = {"ner": FIXTURES / "wikiann", "pos": FIXTURES / "ud", "nli": FIXTURES / "nli"}
TARGET, SOURCES = "amh", ("eng", "zho")
TINY = [name for name in BACKBONES.names() if BACKBONES.get(name).tiny]


def default_method(name: str):
    cls = METHODS.get(name)
    return cls(name, cls.Config())


def supported_cases() -> list:
    """(method, backbone, task) for every pair of a tiny backbone and a task the method supports."""
    cases = []
    for method in METHODS.names():
        instance = default_method(method)
        for backbone in TINY:
            for task in TASKS.names():
                if instance.incompatibility(BACKBONES.get(backbone).arch, task) is None:
                    cases.append(pytest.param(method, backbone, task, id=f"{method}-{backbone}-{task}"))
    return cases


def one_job_suite(method: str, backbone: str, task: str, tmp_path: Path) -> Suite:
    return Suite.model_validate({
        "name": "invariants",
        "backbones": [backbone],
        "tasks": {task: {"targets": [TARGET], "sources": list(SOURCES),
                         "data": {"path": str(TASK_DATA.get(task, tmp_path / "no-data"))}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {method: {}},
        "path": tmp_path / "invariants.yaml",
    })


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_is_described_and_validates_with_its_defaults(method):
    assert METHODS.describe(method).strip()
    instance = default_method(method)  # a ValidationError here fails the test
    assert instance.config == METHODS.get(method).Config.model_validate(instance.config.model_dump())


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_runs_on_some_tiny_backbone(method):
    instance = default_method(method)
    archs = {BACKBONES.get(backbone).arch for backbone in TINY}
    assert any(instance.incompatibility(arch, task) is None for arch in archs for task in TASKS.names())


@pytest.mark.parametrize(("method", "backbone", "task"), supported_cases())
def test_the_stage_graph_ends_in_an_evaluation_of_the_job(method, backbone, task, tmp_path):
    suite = one_job_suite(method, backbone, task, tmp_path)
    job = Job(method, backbone, task, TARGET, 1)
    plan = Plan(suite, {method: default_method(method)}, [job], provisional_data=True)
    final = plan.build(job)
    assert final.kind == "evaluation"
    scored = [(read.task, read.lang, read.splits) for read in final.config.data_reads()]
    assert (task, TARGET, (EVAL_SPLIT,)) in scored
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
