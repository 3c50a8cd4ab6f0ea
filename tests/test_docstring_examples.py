"""The suite YAML examples in module docstrings read as suite files do and pass the suite schema.

An example is the literal block after ``Example (suite YAML)::`` (or ``Example (a suite's
task)::``). A docstring linter that takes its ``methods:`` for a section header and rewrites it
``Methods:`` (ruff's google convention, D405/D214) breaks it: these tests say so.
"""

import ast
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.data.parallel import ParallelCorpus
from harness.data.source import DataSource
from harness.methods.catalog import METHODS
from harness.suite.schema import METHOD_BACKBONES, CorpusSettings, Suite, TaskSuite, method_config

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("Example (suite YAML)::", "Example (a suite's task)::")


def yaml_examples() -> list[tuple[str, str]]:
    """``(module path, YAML text)`` of every suite example in a module docstring."""
    found = []
    for path in sorted([*ROOT.joinpath("harness").rglob("*.py"), *ROOT.joinpath("baselines").rglob("*.py")]):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False) or ""
        lines = docstring.splitlines()
        for i, line in enumerate(lines):
            if line.strip() not in MARKERS:
                continue
            block = []
            for following in lines[i + 1:]:
                if following.strip() and not following.startswith((" ", "\t")):
                    break
                block.append(following)
            found.append((str(path.relative_to(ROOT)), textwrap.dedent("\n".join(block)).strip("\n")))
    return found


def pairs(text: str) -> list[tuple[str, object]]:
    """The top-level ``key: value`` pairs of ``text`` in order, a key given twice kept twice."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return [(key.value, loader.construct_object(value, deep=True)) for key, value in node.value]
    finally:
        loader.dispose()


EXAMPLES = yaml_examples()


def test_the_examples_are_found():
    modules = {module for module, _ in EXAMPLES}
    for module in ("harness/methods/unibridge/method.py", "baselines/zero_shot.py", "baselines/focus.py",
                   "baselines/lang2vec_weights.py", "baselines/mad_x.py", "baselines/extend.py",
                   "harness/data/source.py"):
        assert module in modules


@pytest.mark.parametrize(("module", "text"), EXAMPLES, ids=[module for module, _ in EXAMPLES])
def test_example_matches_the_suite_schema(module, text):
    assert text, f"{module}: no indented YAML block after the example's marker"
    for key, value in pairs(text):
        if key == "data":  # a task's or the monolingual section's data source, alone
            DataSource.model_validate(value)
            continue
        assert key in Suite.model_fields, f"{module}: {key!r} is not a suite key"
        if key == "methods":
            for name, overrides in value.items():
                config_cls = METHODS.get(name).Config
                method_config(config_cls, {k: v for k, v in overrides.items() if k != METHOD_BACKBONES})
        elif key == "tasks":
            for task in value.values():
                assert set(task) <= set(TaskSuite.model_fields), f"{module}: {set(task)}"
                DataSource.model_validate(task["data"])
        elif key == "monolingual":
            assert set(value) <= set(CorpusSettings.model_fields), f"{module}: {set(value)}"
            for data_key in ("data", "target_data"):
                if data_key in value:
                    DataSource.model_validate(value[data_key])
        elif key == "parallel":
            for corpus in value:
                ParallelCorpus.model_validate(corpus)
