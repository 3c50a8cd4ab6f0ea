"""The layers of docs/architecture.md hold: no import cycle, no import upwards, every package listed.

Every import statement counts: at module level, inside functions and under ``TYPE_CHECKING``.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGES = ("harness", "baselines")


def declared_layers(text: str) -> dict[str, int]:
    """``{"harness/core": 0, ..., "harness/api.py": 13}`` from the table under "## Layers"."""
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `([\w/.]+?)/?` \|", section, flags=re.MULTILINE)
    return {path: int(layer) for layer, path in rows}


def modules(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``packages``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_modules(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``path`` imports anywhere (functions, TYPE_CHECKING too)."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            candidates = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            parts = candidate.split(".")
            for end in range(len(parts), 0, -1):  # the longest prefix that is a module
                if ".".join(parts[:end]) in known:
                    targets.add(".".join(parts[:end]))
                    break
    targets.discard(name)
    return targets


def import_graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    """Module -> the modules it imports, over ``packages``."""
    known = modules(root, packages)
    return {name: imported_modules(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str, layers: dict[str, int]) -> tuple[str, int] | None:
    """The declared entry holding ``module`` (its package folder or its file) and its layer."""
    path = module.replace(".", "/")
    parts = path.split("/")
    for entry in (path + ".py", *("/".join(parts[:end]) for end in range(len(parts), 0, -1))):
        if entry in layers:
            return entry, layers[entry]
    return None


def upward_imports(graph: dict[str, set[str]], layers: dict[str, int]) -> list[str]:
    """``a (layer i) imports b (layer j > i)`` for every such import."""
    found = []
    for source, targets in sorted(graph.items()):
        here = layer_of(source, layers)
        for target in sorted(targets):
            there = layer_of(target, layers)
            if here and there and there[1] > here[1]:
                found.append(f"{source} ({here[0]}, layer {here[1]}) imports {target} "
                             f"({there[0]}, layer {there[1]})")
    return found


LAYERS = declared_layers(ARCHITECTURE.read_text(encoding="utf-8"))
GRAPH = import_graph(ROOT)


def test_the_table_is_read():
    assert LAYERS["harness/core"] == 0 and LAYERS["harness/cli"] == max(LAYERS.values())


def test_no_import_cycle():
    assert cycles(GRAPH) == []


def test_no_lower_layer_imports_a_higher_one():
    assert upward_imports(GRAPH, LAYERS) == []


def test_the_table_names_every_package_and_nothing_else():
    folders = {f"harness/{path.name}" for path in (ROOT / "harness").iterdir()
               if path.is_dir() and (path / "__init__.py").is_file()} | {"baselines"}
    loose = {f"harness/{path.name}" for path in (ROOT / "harness").glob("*.py") if path.name != "__init__.py"}
    assert folders | loose == set(LAYERS)
    assert loose == {"harness/api.py"}  # harness/ holds packages, and the plugin API


# The checks themselves, on a made-up tree: each must find what it exists to find.

def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


@pytest.mark.parametrize("where", ["top", "function", "type_checking", "relative"])
def test_a_cycle_is_found_wherever_the_import_is(tmp_path, where):
    back = {
        "top": "from harness.low.a import A\n",
        "function": "def f():\n    from harness.low.a import A\n    return A\n",
        "type_checking": ("from typing import TYPE_CHECKING\n"
                          "if TYPE_CHECKING:\n    from harness.low.a import A\n"),
        "relative": "from .a import A\n",
    }[where]
    write_tree(tmp_path, {"harness/__init__.py": "", "harness/low/__init__.py": "",
                          "harness/low/a.py": "from harness.low import b\nA = 1\n",
                          "harness/low/b.py": back, "baselines/__init__.py": ""})
    assert cycles(import_graph(tmp_path)) == [["harness.low.a", "harness.low.b"]]


def test_an_upward_import_is_found(tmp_path):
    write_tree(tmp_path, {"harness/__init__.py": "", "harness/low/__init__.py": "",
                          "harness/high/__init__.py": "", "harness/high/x.py": "X = 1\n",
                          "harness/low/y.py": "def f():\n    import harness.high.x\n",
                          "baselines/__init__.py": "", "baselines/z.py": "from harness.low import y\n"})
    layers = {"harness/low": 0, "harness/high": 1, "baselines": 1}
    assert upward_imports(import_graph(tmp_path), layers) == [
        "harness.low.y (harness/low, layer 0) imports harness.high.x (harness/high, layer 1)"]
