"""The typed schema of a task declared in YAML, validated when the suite loads.

Example::

    definition = load_definition(Path("suites/examples/tasks/sib200.yaml"), name="sib200")
    definition.columns          # {'text': 'text', 'label': 'category'}
    definition.local.file       # '{language}/{split}.tsv'

Every key is described in docs/yaml-tasks.md. Defaults are filled in at validation
(``columns`` the role names, ``splits`` the identity, ``local`` the kind's first format), so
that a stage config holding the definition names everything its stage reads, and the stage key
changes when any of it does. A problem is one :class:`~harness.suite.schema.SuiteError`-ready message
per key: the file, the key and the valid choices (:func:`load_definition`).
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from harness.core.config import StrictConfig
from harness.core.languages import canonical_code
from harness.core.registry import UnknownNameError
from harness.core.yaml_files import YamlFileError, format_validation_error, read_yaml
from harness.tasks.from_yaml.kinds import TASK_KINDS, TOKEN_CLASSIFICATION, TaskKind
from harness.tasks.metrics import METRICS

HarnessSplit = Literal["train", "validation", "test"]
LocalFormat = Literal["tsv", "quoted_tsv", "csv", "jsonl", "conll", "conllu"]
#: The metric that only token classification with IOB2 tags can use (seqeval entity F1).
ENTITY_F1 = "f1"


class DefinitionError(YamlFileError):
    """A task definition that cannot be used; the message names the file, the key and the fix."""


class LocalLayout(StrictConfig):
    """Where the local form's files are, below the suite's data path, and their format."""

    format: LocalFormat
    file: str = ""

    @model_validator(mode="after")
    def _file_pattern(self) -> LocalLayout:
        if not self.file:
            suffix = {"conll": "tsv", "quoted_tsv": "tsv"}.get(self.format, self.format)
            object.__setattr__(self, "file", f"{{language}}/{{split}}.{suffix}")
        if "{language}" not in self.file or Path(self.file).is_absolute() or ".." in Path(self.file).parts:
            raise ValueError(f"file {self.file!r} must be a relative pattern holding '{{language}}' "
                             "(and '{split}'), inside the data path")
        try:
            self.file.format(language="x", split="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"file {self.file!r}: the only placeholders are {{language}} and "
                             "{split}") from None
        return self


class TaskDefinition(StrictConfig):
    """A task declared by data: kind, labels, metric, columns, splits, languages, local layout.

    Hashable (by its content), so that it can stand where a task name stands in a
    :class:`~harness.tasks.reads.TaskRead`. Its dump (what a stage key hashes) holds every key
    but ``description``: editing a description or a comment rebuilds nothing.
    """

    task: str | None = None
    kind: str
    description: str = Field("", exclude=True)  # says nothing a stage computes: not in the key
    labels: tuple[str, ...] = Field(min_length=2)
    metric: str
    columns: dict[str, str] = {}
    splits: dict[HarnessSplit, str] = {}
    languages: dict[str, str] = Field(min_length=1)
    local: LocalLayout | None = None
    fallback_label: str | None = None

    def __hash__(self) -> int:
        return hash(self.model_dump_json())

    @property
    def task_kind(self) -> TaskKind:
        """The kind's entry of :data:`~harness.tasks.from_yaml.kinds.TASK_KINDS`."""
        return TASK_KINDS.get(self.kind)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        return _known(TASK_KINDS, kind)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        return _known(METRICS, metric)

    @field_validator("labels")
    @classmethod
    def _labels_once(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"labels listed twice: {', '.join(twice)}")
        if any(not label.strip() for label in labels):
            raise ValueError("a label is empty")
        return labels

    @field_validator("languages")
    @classmethod
    def _canonical_languages(cls, languages: dict[str, str]) -> dict[str, str]:
        canonical = {canonical_code(code): config for code, config in languages.items()}
        empty = [code for code, config in canonical.items() if not config.strip()]
        if empty:
            raise ValueError(f"languages {', '.join(empty)} name no config (hub) or folder (local)")
        if len(canonical) != len(languages):
            raise ValueError("a language is listed twice (under two of its codes)")
        return canonical

    @model_validator(mode="after")
    def _fits_the_kind(self) -> TaskDefinition:
        kind = self.task_kind
        columns = {role: role for role in kind.roles} | dict(self.columns)
        unknown = sorted(set(columns) - set(kind.roles))
        if unknown:
            raise ValueError(f"columns: unknown role(s) {', '.join(unknown)} for kind {kind.name}; "
                             f"valid roles: {', '.join(kind.roles)}")
        if self.metric == ENTITY_F1:
            _entity_labels(kind, self.labels)
        local = self.local or LocalLayout(format=kind.formats[0])
        if local.format not in kind.formats:
            raise ValueError(f"local.format {local.format!r} cannot hold kind {kind.name}; "
                             f"valid: {', '.join(kind.formats)}")
        fallback = self.fallback_label or ("O" if "O" in self.labels else self.labels[0])
        if fallback not in self.labels:
            raise ValueError(f"fallback_label {fallback!r} is not one of labels "
                             f"({', '.join(self.labels)})")
        splits = {split: split for split in ("train", "validation", "test")} | dict(self.splits)
        for key, value in (("columns", columns), ("splits", splits), ("local", local),
                           ("fallback_label", fallback)):
            object.__setattr__(self, key, value)
        return self

    def named(self, name: str) -> TaskDefinition:
        """The definition as the suite's task ``name``; a different ``task:`` is an error."""
        if self.task is not None and self.task != name:
            raise ValueError(f"the definition says task {self.task!r} but the suite names it "
                             f"{name!r}; make them equal (or leave 'task' out)")
        return self if self.task == name else self.model_copy(update={"task": name})


def _entity_labels(kind: TaskKind, labels: tuple[str, ...]) -> None:
    """Raise unless entity F1 can score ``labels``: token classification with IOB2 tags."""
    if kind.name != TOKEN_CLASSIFICATION:
        raise ValueError(f"metric {ENTITY_F1!r} (seqeval entity F1) needs kind "
                         f"{TOKEN_CLASSIFICATION}; use 'accuracy' for {kind.name}")
    other = [label for label in labels if label != "O" and label[:2] not in ("B-", "I-")]
    if other:
        raise ValueError(f"metric {ENTITY_F1!r} (seqeval entity F1) reads IOB2 tags (O, B-<type>, "
                         f"I-<type>); {', '.join(other)} are not: use 'accuracy' for other tags")


def _known(registry: Any, name: str) -> str:
    try:
        registry.get(name)
    except UnknownNameError as error:
        raise ValueError(str(error)) from None
    return name


def load_definition(path: Path, name: str) -> TaskDefinition:
    """The validated definition in file ``path`` for the suite's task ``name``.

    Raises:
        DefinitionError: ``<path>: invalid task definition`` and one ``key: message`` line per
            problem (valid choices included).
    """
    raw = read_yaml(path, "task definition")
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: a task definition must be a YAML mapping, got "
                              f"{type(raw).__name__}")
    try:
        return TaskDefinition.model_validate(raw).named(name)
    except ValidationError as error:
        raise DefinitionError(f"{path}: invalid task definition\n"
                              f"{format_validation_error(error, model=TaskDefinition)}") from None
    except ValueError as error:
        raise DefinitionError(f"{path}: invalid task definition\ntask: {error}") from None


def definition_files(raw: dict, suite: Path, builtin: Container[str]) -> dict:
    """A raw suite with each ``tasks.<name>.definition`` that names a file replaced by its definition.

    The file is relative to the suite file's directory. A name in ``builtin`` (the paper tasks)
    takes no definition. Raises:
        DefinitionError: ``<suite>: tasks.<name>.definition: <file>: ...`` (:func:`load_definition`).
    """
    tasks = raw.get("tasks")
    if not isinstance(tasks, dict):
        return raw
    loaded = {}
    for name, entry in tasks.items():
        definition = entry.get("definition") if isinstance(entry, dict) else None
        if definition is not None and name in builtin:
            raise DefinitionError(f"{suite}: tasks.{name}: {name!r} is a built-in task and takes no "
                                  f"'definition'; give the YAML task another name")
        if isinstance(definition, str):
            try:
                entry = {**entry, "definition": load_definition(suite.parent / definition, str(name))}
            except YamlFileError as error:
                raise DefinitionError(f"{suite}: tasks.{name}.definition: {error}") from None
        loaded[name] = entry
    return {**raw, "tasks": loaded}
