"""A suite or task definition past the input limits is one message naming the file, never a traceback.

docs/choices.md, "Input limits": at most :data:`MAX_YAML_BYTES` bytes, :data:`MAX_YAML_DEPTH`
levels of nesting and :data:`MAX_YAML_NODES` values with aliases expanded; an alias inside its
own anchor and a scalar the constructor refuses are named with their line too. Within the limits,
a deep structure at any key is a ``key.path: message`` line.
"""

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.yaml_files import (
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    YamlFileError,
    read_yaml,
)

SUITE = """\
name: mini
backbones: [tiny-xlmr]
tasks:
  ner: {targets: [amh], sources: [eng], data: {path: data/ner}}
methods: {zero_shot: {training: {max_steps: 2}}}
monolingual: {data: {path: data/mono}}
"""


def validate(path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["validate", str(path), "--no-data-check"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def refused(tmp_path, text: str) -> str:
    """The one line ``validate`` prints for a suite file holding ``text``."""
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    code, lines = validate(path)
    assert code == 2 and len(lines) == 1 and str(path) in lines[0], lines
    return lines[0]


def test_the_mini_suite_is_ok(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE)
    assert validate(path) == (0, [f"{path}: ok (1 jobs)"])


def test_a_file_past_the_size_limit_is_refused_unread(tmp_path):
    text = SUITE + "description: " + "x" * MAX_YAML_BYTES + "\n"
    assert "larger than 256 KiB" in refused(tmp_path, text)


def test_a_file_at_the_size_limit_is_read(tmp_path):
    text = SUITE + "description: "
    text += "x" * (MAX_YAML_BYTES - len(text) - 1) + "\n"
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    assert validate(path)[0] == 0


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 5000])
def test_nesting_past_the_depth_limit_names_the_line(tmp_path, depth):
    text = SUITE + "description:\n  " + "[" * depth + "]" * depth + "\n"
    line = refused(tmp_path, text)
    assert f"suite.yaml:8: nested deeper than {MAX_YAML_DEPTH} levels" in line, line


def test_block_nesting_past_the_depth_limit_names_its_line(tmp_path):
    text = SUITE + "description:\n" + "".join("  " * level + "- \n" for level in range(1, 100))
    assert f"nested deeper than {MAX_YAML_DEPTH} levels" in refused(tmp_path, text)


def test_aliases_cannot_nest_past_the_depth_limit(tmp_path):
    """Each anchor is shallow; expanded, the last one is three times as deep."""
    half = MAX_YAML_DEPTH // 2
    text = (SUITE + "x-a: &a " + "[" * half + "]" * half + "\n"
            + "x-b: &b " + "[" * half + "*a" + "]" * half + "\n"
            + "x-c: " + "[" * half + "*b" + "]" * half + "\n")
    assert "(aliases expanded)" in refused(tmp_path, text)


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    assert "suite.yaml:7: an alias refers to a node that contains it" in refused(
        tmp_path, SUITE + "x-loop: &loop [1, *loop]\n")


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["x-l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    assert f"more than {MAX_YAML_NODES} values" in refused(tmp_path, SUITE + "\n".join(lines) + "\n")


@pytest.mark.parametrize("value, problem", [
    ("1" * 5000, "Exceeds the limit (4300 digits)"),
    ("2024-13-45", "month must be in 1..12"),
], ids=["5000-digit-integer", "month-13"])
def test_a_scalar_the_constructor_refuses_names_its_line(tmp_path, value, problem):
    line = refused(tmp_path, SUITE + f"description: {value}\n")
    assert "suite.yaml:7: not valid YAML: cannot read the value" in line and problem in line, line


def test_a_task_definition_has_the_same_limits(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text("task: x\nlabels: " + "[" * 200 + "]" * 200 + "\n")
    with pytest.raises(YamlFileError, match=r"task\.yaml:2: nested deeper than 64 levels"):
        read_yaml(path, "task definition")


def nested(depth: int, kind: str):
    value = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


@pytest.mark.parametrize("kind", ["list", "mapping"])
@pytest.mark.parametrize("path", [
    ("name",), ("seeds",), ("backbones",), ("tasks",), ("tasks", "ner"), ("tasks", "ner", "data"),
    ("tasks", "ner", "definition"), ("methods",), ("methods", "zero_shot"),
    ("methods", "zero_shot", "backbones"), ("methods", "zero_shot", "training"), ("monolingual",),
    ("parallel",), ("include",),
])
def test_deep_values_within_the_limits_are_key_messages(tmp_path, path, kind):
    suite = yaml.safe_load(SUITE)
    node = suite
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = nested(MAX_YAML_DEPTH - len(path) - 2, kind)
    file = tmp_path / "suite.yaml"
    file.write_text(yaml.safe_dump(suite))
    code, lines = validate(file)
    assert code == 2 and lines and "input limits" not in lines[0], lines
    assert len("\n".join(lines)) < 2000, lines  # a message, not the value's whole tree
    key = ".".join(path[:2])  # the key, or the entry holding it
    assert any(line.startswith(key) or f": {key}" in line for line in lines), lines  # names it
