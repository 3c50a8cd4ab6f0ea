"""The plugin API: every name docs/extending.md documents comes from ``harness.api``, and only those."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENDING = ROOT / "docs" / "extending.md"


def documented_names(text: str) -> list[str]:
    """The first column of the table under "## The plugin API", in order."""
    section = text.split("## The plugin API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)


def test_the_documented_table_is_read():
    names = documented_names(EXTENDING.read_text(encoding="utf-8"))
    assert len(names) >= 20 and "Method" in names and "METHODS" in names


@pytest.mark.parametrize("name", documented_names(EXTENDING.read_text(encoding="utf-8")))
def test_each_documented_name_imports_from_the_api(name):
    api = importlib.import_module("harness.api")
    assert hasattr(api, name), f"docs/extending.md documents {name}, which harness.api lacks"
    exec(f"from harness.api import {name}", {})  # the form plugin code uses


def test_the_api_exports_exactly_what_is_documented():
    api = importlib.import_module("harness.api")
    assert sorted(api.__all__) == sorted(documented_names(EXTENDING.read_text(encoding="utf-8")))


def test_every_registry_group_is_reachable_from_the_api():
    """Each plugin group's registry is the very object ``harness.api`` exports."""
    api = importlib.import_module("harness.api")
    from harness.plugins.registries import REGISTRIES

    exported = {id(getattr(api, name)) for name in api.__all__}
    for group, (_, target) in REGISTRIES.items():
        module, attribute = target.split(":")
        registry = getattr(importlib.import_module(module), attribute)
        assert id(registry) in exported, f"{group}: {target} is not exported by harness.api"


def test_the_plugin_examples_import_only_the_api():
    """The worked examples import harness names only from ``harness.api``."""
    example = ROOT / "tests" / "plugin_example"
    imports = [line for path in example.rglob("*.py") for line in path.read_text().splitlines()
               if re.match(r"\s*(from|import) harness\b", line)]
    assert imports and all(re.match(r"\s*from harness\.api import ", line) for line in imports), imports
