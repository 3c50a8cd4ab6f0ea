"""Property: a mutated shipped suite is ``ok`` or messages naming keys, and ``ok`` means it builds.

Random mutations of the shipped suites (a value replaced by another type, a huge, negative or
non-finite number, a boolean, an empty container; a key deleted or misspelt; a value wrapped in
a list or nested deeper) are written beside nothing: their data paths are made absolute to the
repository's fixtures. ``validate`` runs in-process (click's CliRunner) and must end in ``ok``
or in one ``key: message`` line per problem, never a traceback; a suite it passes must build
every selected job's graph (the stage configs' own checks) with provisional data. The seed is
fixed (``derandomize``) and the examples bounded, so the test is the same in CI every time.
"""

import copy
import math
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli.common import load_plan
from harness.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("smoke", "smoke_baselines", "wikiann", "ud", "americasnli")
#: Suites whose data is all in the repository's fixtures: validated with the data check too
#: (the others read hub datasets and releases, which a test does not fetch).
LOCAL = ("smoke", "smoke_baselines")
#: A line of a refusal: ``Error: <file>...`` (the header), or ``key.path: message``.
MESSAGE = re.compile(r"^(Error: .+|\S[^:]*: .+)$")


def absolute_paths(node, base: Path):
    """``node`` with every ``path:`` value (local data) absolute against ``base``."""
    if isinstance(node, dict):
        return {key: str((base / value).resolve()) if key == "path" and isinstance(value, str)
                else absolute_paths(value, base) for key, value in node.items()}
    if isinstance(node, list):
        return [absolute_paths(item, base) for item in node]
    return node


def shipped(name: str) -> dict:
    path = ROOT / "suites" / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw = {key: value for key, value in raw.items() if not key.startswith("x-")}
    return absolute_paths(copy.deepcopy(raw), path.parent)


BASES = {name: shipped(name) for name in SUITES}

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**32, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0]),
    st.text(max_size=12), st.sampled_from(["", "eng", "tiny-xlmr", "../x", "amh", "auto"]),
)
values = st.one_of(scalars, st.just([]), st.just({}), st.lists(scalars, max_size=3),
                   st.dictionaries(st.text(max_size=6), scalars, max_size=2))
OPERATIONS = ("replace", "delete", "misspell", "wrap", "nest", "empty")


def locations(node, at=()) -> list[tuple]:
    """Every path to a value below ``node`` (keys and list indexes)."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append((*at, key))
        found += locations(value, (*at, key))
    return found


def mutate(data, suite: dict) -> dict:
    suite = copy.deepcopy(suite)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        where = data.draw(st.sampled_from(locations(suite)), label="where")
        parent = suite
        for key in where[:-1]:
            parent = parent[key]
        key, operation = where[-1], data.draw(st.sampled_from(OPERATIONS), label="operation")
        value = parent[key]
        if operation == "replace":
            parent[key] = data.draw(values, label="value")
        elif operation == "delete":
            del parent[key]
        elif operation == "misspell" and isinstance(parent, dict) and isinstance(key, str) and key:
            at = data.draw(st.integers(0, len(key) - 1), label="letter")
            parent[key[:at] + data.draw(st.sampled_from("aeiouxz_"), label="new") + key[at + 1:]] = value
            del parent[key]
        elif operation == "wrap":
            parent[key] = [value]
        elif operation == "nest":
            parent[key] = {key if isinstance(key, str) else "a": value}
        else:
            parent[key] = [] if isinstance(value, list) else {} if isinstance(value, dict) else ""
    return suite


def graphs_build(path: Path) -> None:
    """Build every selected job's graph, walking every stage (the stage configs' own checks)."""
    plan = replace(load_plan(path, check_data=False), provisional_data=True)
    seen = set()

    def walk(stage):
        if stage.key not in seen:
            seen.add(stage.key)
            for parent in stage.inputs.values():
                walk(parent)

    for job in plan.selected:
        walk(plan.build(job))


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_a_mutated_suite_is_ok_or_named_messages_and_ok_builds(data):
    name = data.draw(st.sampled_from(SUITES), label="suite")
    suite = mutate(data, BASES[name])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.yaml"
        path.write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
        options = [] if name in LOCAL else ["--no-data-check"]
        result = CliRunner().invoke(cli, ["validate", str(path), *options])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            repr(result.exception), suite)
        assert "Traceback" not in result.output, result.output
        lines = result.output.splitlines()
        if result.exit_code == 0:
            assert lines[0].startswith(f"{path}: ok ("), result.output
            graphs_build(path)
        else:
            assert result.exit_code == 2 and lines[0].startswith(f"Error: {path}"), result.output
            assert all(MESSAGE.match(line) for line in lines if line), result.output
