"""Reading the project's YAML files (suites, task definitions) with one clear message per problem.

Example::

    raw = read_yaml(Path("suites/smoke.yaml"), "suite file")   # YamlFileError naming file:line
    format_validation_error(error, prefix="methods.unibridge")  # "methods.unibridge.vocab: ..."

A key given twice in one mapping is refused (:class:`UniqueKeyLoader`); a file that is not
UTF-8 or not YAML is named with its line; so is one past the input limits (docs/choices.md,
"Input limits"): more than :data:`MAX_YAML_BYTES` bytes, nested deeper than
:data:`MAX_YAML_DEPTH` levels, or more than :data:`MAX_YAML_NODES` values once its aliases are
expanded (or an alias inside its own anchor), each refused before it is built, so that no file
ends in a RecursionError or runs out of time and memory. Pydantic's errors become one ``key.path: message``
line each, an unknown key with the closest valid one and the valid keys, as an unknown name
gets (:func:`~harness.core.registry.suggestion`)::

    methods.zero_shot.trainin: unknown key. Did you mean 'training'? Valid keys: backbones, ...
"""

from __future__ import annotations

import types
import typing
from collections.abc import Hashable, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.core.registry import closest, suggestion

#: A model's class attribute naming fields that no file gives (``Suite.path``, set by the loader):
#: they are left out of the valid keys an unknown key lists.
HIDDEN_KEYS = "hidden_keys"


#: The largest suite or task definition read, in bytes (256 KiB): the shipped ones are under
#: 4 KiB; PyYAML's pure-Python loader reads about 100 KB a second (docs/choices.md).
MAX_YAML_BYTES = 256 << 10
#: The deepest nesting of mappings and lists read (the shipped files nest 5 levels): PyYAML and
#: the code that walks what it returns recurse once per level.
MAX_YAML_DEPTH = 64
#: The most values (keys, scalars, lists, mappings) a file may hold with its aliases expanded:
#: more than a file of :data:`MAX_YAML_BYTES` holds without aliases (``[0,0,...]``: one value
#: per 2 bytes), far less than an alias "bomb" expands to.
MAX_YAML_NODES = 200_000
_LIMITS = ", past the input limits (docs/choices.md, Input limits)"


class YamlFileError(ValueError):
    """A YAML file that cannot be read; the message names the file (and line) and the fix."""


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML file past an input limit or holding itself; ``problem`` says which, the mark where."""


def read_yaml(path: Path, what: str) -> Any:
    """The content of YAML file ``path`` (a ``what``: ``suite file``, ``task definition``).

    Raises:
        YamlFileError: naming the file (and line) when it cannot be read, is not UTF-8 YAML, or
            is past an input limit (:data:`MAX_YAML_BYTES`, :data:`MAX_YAML_DEPTH`,
            :data:`MAX_YAML_NODES`). Example: ``suite.yaml:3: nested deeper than 64 levels``.
    """
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            raise YamlFileError(f"{path}: the {what} is larger than {MAX_YAML_BYTES >> 10} KiB, "
                                f"the most read (docs/choices.md, Input limits); a {what} names "
                                f"its data, it does not hold it")
        loader = UniqueKeyLoader(data.decode("utf-8-sig"))  # a SafeLoader
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            check_shape(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except OSError as error:
        raise YamlFileError(f"{path}: cannot read {what} ({error.strerror})") from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise YamlFileError(f"{path}:{line}: not UTF-8 text (byte {data[error.start]:#04x}); "
                            f"save the {what} as UTF-8") from None
    except yaml.YAMLError as error:
        raise YamlFileError(yaml_message(path, error)) from None


def check_shape(root: yaml.Node) -> None:
    """Raise :class:`YamlLimitError` if ``root``, aliases expanded, is too deep, too big or cyclic.

    An alias is the node of its anchor again, so the composed nodes form a graph: each node's
    depth and expanded size are computed once (no recursion, no expansion), and an alias inside
    its own anchor (``a: &x [*x]``, a structure containing itself) is refused. Example::

        check_shape(yaml.compose("a: [[[1]]]"))    # fine: 5 levels
    """
    shape: dict[int, tuple[int, int]] = {}  # id(node) -> (depth, values with aliases expanded)
    open_nodes: set[int] = set()  # the nodes whose children are being walked: the current path
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            depth = 1 + max((shape[id(child)][0] for child in children), default=0)
            size = 1 + sum(shape[id(child)][1] for child in children)
            if depth > MAX_YAML_DEPTH:
                raise YamlLimitError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels "
                                     f"(aliases expanded){_LIMITS}", node.start_mark)
            if size > MAX_YAML_NODES:
                raise YamlLimitError(None, None, f"more than {MAX_YAML_NODES} values with its "
                                     f"aliases expanded{_LIMITS}", node.start_mark)
            shape[id(node)] = (depth, size)
        elif id(node) in open_nodes:
            raise YamlLimitError(None, None, "an alias refers to a node that contains it (a "
                                 "structure inside itself)", node.start_mark)
        elif id(node) not in shape:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in shape)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def format_validation_error(error: ValidationError, prefix: str = "",
                            model: type[BaseModel] | None = None, also_valid: Sequence[str] = ()) -> str:
    """One line per problem: ``key.path: message``; an unknown key names the closest valid one.

    ``model`` is the model ``error`` came from (pydantic's errors do not say): an unknown key's
    valid keys are the fields of the model found by walking ``model``'s fields along the key's
    path (nested models, ``X | None``, ``dict[str, X]``, ``tuple[X, ...]``, aliases), ``also_valid``
    added at the top level; where the walk finds no model only a close missing key is named. A
    required key that is missing and close to an unknown key beside it (a misspelling) is left
    out: the unknown key's line names it. Example::

        format_validation_error(error, "methods.zero_shot", ZeroShotConfig, ["backbones"])
        # methods.zero_shot.trainin: unknown key. Did you mean 'training'? Valid keys: backbones, ...
    """
    problems = error.errors()
    missing: dict[tuple, list[str]] = {}
    for problem in problems:
        if problem["type"] == "missing" and problem["loc"]:
            missing.setdefault(tuple(problem["loc"][:-1]), []).append(str(problem["loc"][-1]))
    misspelt = set()  # (loc of a missing key) close to an unknown key beside it
    for problem in problems:
        loc = tuple(problem["loc"])
        if problem["type"] == "extra_forbidden" and loc:
            likely = closest(str(loc[-1]), [], missing.get(loc[:-1], []))
            if likely is not None:
                misspelt.add((*loc[:-1], likely))
    lines = []
    for problem in problems:
        loc = tuple(problem["loc"])
        message = problem["msg"]
        if problem["type"] == "missing" and loc in misspelt:
            continue
        if problem["type"] == "too_short":
            if _short_by_failed_items(problem, problems):
                continue
            message = message.replace(" after validation", "")  # the input was that short
        if problem["type"] == "extra_forbidden" and loc:
            message = _unknown_key(model, loc, also_valid, missing.get(loc[:-1], []))
        lines.append(f"{_dotted(prefix, loc) or '(top level)'}: {message}")
    return "\n".join(lines)


def _short_by_failed_items(problem: Mapping[str, Any], problems: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a ``too_short`` problem only counts the items that failed (each has its own line).

    Pydantic checks a list's or mapping's length after validating its items, counting those
    that passed: ``backbones: [{name: x, bogus: 1}]`` has one entry, which fails, and a second
    line "Tuple should have at least 1 item after validation, not 0" that is no problem of its
    own. The input had enough items when its length reaches the minimum.
    """
    loc, given = tuple(problem["loc"]), problem.get("input")
    minimum = (problem.get("ctx") or {}).get("min_length")
    if not isinstance(given, Sized) or minimum is None or len(given) < minimum:
        return False
    return any(len(other["loc"]) > len(loc) and tuple(other["loc"][:len(loc)]) == loc
               for other in problems)


def _unknown_key(model: type[BaseModel] | None, loc: tuple, also_valid: Sequence[str],
                 missing: list[str]) -> str:
    """``unknown key. Did you mean 'x'? Valid keys: ...`` (what is known of it) for key ``loc``."""
    parent, key = loc[:-1], str(loc[-1])
    keys = valid_keys(model, parent, () if parent else also_valid)
    if keys is not None:
        return f"unknown key. {suggestion(key, keys, 'keys', missing)}"
    likely = closest(key, [], missing)
    return f"unknown key. Did you mean {likely!r}?" if likely else "unknown key"


def _dotted(prefix: str, loc: tuple) -> str:
    return ".".join(str(part) for part in (prefix, *loc) if part != "")


def valid_keys(model: type[BaseModel] | None, loc: Sequence[Any] = (),
               also_valid: Sequence[str] = ()) -> list[str] | None:
    """The keys a file may give at ``loc`` below ``model`` (``also_valid`` first); None: unknown.

    Example: ``valid_keys(Suite, ("tasks", "ner", "data"))`` lists DataSource's fields.
    """
    found = _model_at(model, tuple(loc)) if model is not None else None
    if found is None:
        return None
    hidden = getattr(found, HIDDEN_KEYS, ())
    fields = [field.alias or name for name, field in found.model_fields.items() if name not in hidden]
    return list(dict.fromkeys([*also_valid, *fields]))


def _model_at(annotation: Any, loc: tuple) -> type[BaseModel] | None:
    """The model whose fields are the keys at ``loc`` below ``annotation``, if one is certain."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _model_at(args[0], loc)
    if origin is typing.Union or origin is types.UnionType:
        members = [arg for arg in args if arg is not type(None)]
        tagged = [arg for arg in members if loc and getattr(arg, "__name__", None) == loc[0]]
        if tagged and len(members) > 1:  # pydantic names the member of a union it tried
            return _model_at(tagged[0], loc[1:])
        models = [arg for arg in members if _holds_keys(arg)]
        return _model_at(models[0], loc) if len(models) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not loc:
            return annotation
        fields = annotation.model_fields
        field = fields.get(str(loc[0])) or next(
            (field for field in fields.values() if field.alias == loc[0]), None)
        return _model_at(field.annotation, loc[1:]) if field is not None else None
    if not loc:
        return None
    if isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
        return _model_at(args[1], loc[1:]) if loc[0] != "[key]" else None
    if isinstance(origin, type) and issubclass(origin, Sequence | set | frozenset) and args:
        if not isinstance(loc[0], int):
            return None
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _model_at(args[loc[0]], loc[1:]) if loc[0] < len(args) else None
        return _model_at(args[0], loc[1:])
    return None


def _holds_keys(annotation: Any) -> bool:
    """Whether ``annotation`` can hold keys (a model, a mapping, a list of either)."""
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and (issubclass(origin, BaseModel | Mapping)
                                         or (issubclass(origin, Sequence) and origin is not str))


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last).

    Keys a merge (``<<: *anchor``) brings in may still be overridden: only the mapping's own
    keys are compared. It composes no deeper than :data:`MAX_YAML_DEPTH` levels (PyYAML's
    composer recurses once per level) and a scalar its constructor refuses (an integer of more
    than 4300 digits, a date with month 13) is a :class:`yaml.constructor.ConstructorError` at
    its line, not a bare ValueError.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """PyYAML's node, refused past :data:`MAX_YAML_DEPTH` levels (before it recurses further)."""
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YamlLimitError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels{_LIMITS}",
                                     self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's object for ``node``; a ValueError of a scalar's constructor names its line."""
        try:
            return super().construct_object(node, deep)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value: {error}", node.start_mark) from None

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
    if isinstance(error, YamlLimitError):
        return f"{where}: {problem}"
    context = getattr(error, "context", None)
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")
