"""Reading the project's YAML files (suites, task definitions) with one clear message per problem.

Example::

    raw = read_yaml(Path("suites/smoke.yaml"), "suite file")   # YamlFileError naming file:line
    format_validation_error(error, prefix="methods.unibridge")  # "methods.unibridge.vocab: ..."

A key given twice in one mapping is refused (:class:`UniqueKeyLoader`); a file that is not
UTF-8 or not YAML is named with its line; pydantic's errors become one ``key.path: message``
line each.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class YamlFileError(ValueError):
    """A YAML file that cannot be read; the message names the file (and line) and the fix."""


def read_yaml(path: Path, what: str) -> Any:
    """The content of YAML file ``path`` (a ``what``: ``suite file``, ``task definition``)."""
    try:
        data = Path(path).read_bytes()
        return yaml.load(data.decode("utf-8-sig"), Loader=UniqueKeyLoader)  # a SafeLoader
    except OSError as error:
        raise YamlFileError(f"{path}: cannot read {what} ({error.strerror})") from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise YamlFileError(f"{path}:{line}: not UTF-8 text (byte {data[error.start]:#04x}); "
                            f"save the {what} as UTF-8") from None
    except yaml.YAMLError as error:
        raise YamlFileError(yaml_message(path, error)) from None


def format_validation_error(error: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``key.path: message``, listing valid keys for unknown ones."""
    lines = []
    for problem in error.errors():
        location = ".".join(str(part) for part in (prefix, *problem["loc"]) if part != "")
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{location or '(top level)'}: {message}")
    return "\n".join(lines)


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last).

    Keys a merge (``<<: *anchor``) brings in may still be overridden: only the mapping's own
    keys are compared.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """The mapping of ``node``; ConstructorError at the second place a key is given."""
        first_line: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):  # SafeLoader's own error names it
                continue
            if key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (first on line {first_line[key]})",
                    key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def yaml_message(path: Path, error: yaml.YAMLError) -> str:
    """``file:line: not valid YAML: problem`` (the line where YAML reports one)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")
