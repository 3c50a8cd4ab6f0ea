"""Loading and checking the data of a YAML task: local files or a hub dataset.

Example::

    data = TaskData(definition)
    examples = data.load(DataSource(path="fixtures/yaml_tasks/sentence"), "amh", "test")
    data.check(DataSource(hub="Davlan/sib200", revision=COMMIT), "amh", ("test",))

The same two calls as the paper tasks' data modules (:mod:`harness.data.wikiann`), so that
stages, ``validate`` and ``fetch`` treat a YAML task like a built-in one.

Local form: ``<path>/<local.file>`` with ``{language}`` the language's config name and
``{split}`` the dataset's split name, read by :mod:`harness.tasks.from_yaml.formats`; every bad line
(unreadable, a label outside ``labels``, tokens and tags of different lengths, an empty text)
is reported as ``file:line``: a bad tag at its own line in the line-per-word formats (conll,
conllu), every other problem of a row at the row's first line. Hub form:
``datasets.load_dataset(hub, config, split=..., revision=...)`` through
:func:`harness.data._local.load_hub` (mirrors, pins); an integer label column is read through
its ``ClassLabel`` names when it has them (each must be one of ``labels``), else through
``labels`` in order; a string column must hold names of ``labels``. ``check`` of the hub form
checks the language and split names only (no network), as the paper tasks' checks do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from harness.data._local import (
    check_split,
    existing_file,
    label_names,
    load_hub,
    local_root,
    mapped_code,
    no_release,
)
from harness.data.problems import Problems, collecting
from harness.data.source import DataError, DataSource
from harness.tasks.from_yaml.formats import read_rows
from harness.tasks.from_yaml.schema import TaskDefinition


class WordErrors(ValueError):
    """What is wrong with words of a tagged row: (position in the row, message) per bad word.

    The message is the first word's (the hub form names the row only); the local form reports
    each at its own line (:meth:`harness.tasks.from_yaml.formats.Row.line_of`).
    """

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__(errors[0][1])
        self.errors = errors


class TaskData:
    """The data module of one YAML task (``load`` and ``check``, as :mod:`harness.data.nli`)."""

    def __init__(self, definition: TaskDefinition):
        self.definition = definition
        self.kind = definition.task_kind

    @property
    def dataset(self) -> str:
        """How messages name the task."""
        return f"task {self.definition.task}"

    def load(self, source: DataSource, lang: str, split: str) -> list:
        """The examples of ``lang``/``split``, from local files or the hub."""
        if source.is_local:
            return self._parse(self.local_file(source, lang, split))
        no_release(source, self.dataset)
        config, hub_split = self._names(source, lang, split)
        rows = load_hub(source, config, hub_split)
        return self._hub_examples(rows, f"hub dataset {source.hub!r} (config {config!r}, split "
                                        f"{hub_split!r})")

    def check(self, source: DataSource, lang: str, splits: Iterable[str],
              problems: Problems | None = None) -> None:
        """Raise a DataError unless ``lang`` has every split; local files are read line by line.

        Every problem of a local file goes to ``problems`` (without one, a DataError lists
        them). Hub: the language and split names only.
        """
        if not source.is_local:
            no_release(source, self.dataset)
            for split in splits:
                self._names(source, lang, split)
            return
        files = [self.local_file(source, lang, split) for split in splits]
        with collecting(problems) as found:
            for path in files:
                self._parse(path, found)

    def local_file(self, source: DataSource, lang: str, split: str) -> Path:
        """``<path>/<local.file>`` of ``lang``/``split``, or a DataError naming what is there."""
        config, dataset_split = self._names(source, lang, split)
        relative = self.definition.local.file.format(language=config, split=dataset_split)
        return existing_file(local_root(source) / relative,
                             f"{self.dataset} language {lang!r} split {split!r}", "files")

    def _names(self, source: DataSource, lang: str, split: str) -> tuple[str, str]:
        """The dataset's config and split names of ``lang``/``split``."""
        where = source.hub or source.path
        check_split(split, where=f"{where} ({lang})")
        config = mapped_code(lang, self.definition.languages, f"{self.dataset} ({where})")
        return config, self.definition.splits[split]

    def _parse(self, path: Path, problems: Problems | None = None) -> list:
        """The examples of one local file; each bad line reported with its number."""
        definition = self.definition
        examples = []
        with collecting(problems) as found:
            for row in read_rows(path, definition.local.format, definition.columns, found):
                try:
                    examples.append(self._example(row.values, definition.labels))
                except WordErrors as error:
                    for word, message in error.errors:
                        found.add(path, row.line_of(word), message)
                except ValueError as error:
                    found.add(path, row.line, str(error))
            found.require(path, len(examples), "examples")
        return examples

    def _example(self, values: dict[str, Any], names: Sequence[str]) -> Any:
        """The example of one row, its label values read as names (ids through ``names``)."""
        role = self.kind.label_role
        raw = values[role]
        if self.kind.shape == "tagging":
            if not isinstance(raw, list | tuple):
                raise ValueError(f"column of {role!r} must be a list of tags, got {raw!r}")
            named = self._tags(raw, names)
        else:
            named = self._label(raw, names)
        return self.kind.example({**values, role: named}, self.definition.labels)

    def _tags(self, tags: Sequence[Any], names: Sequence[str]) -> list[str]:
        """The names of a row's tags; every bad one raised together (:class:`WordErrors`)."""
        named, errors = [], []
        for word, tag in enumerate(tags):
            try:
                named.append(self._label(tag, names))
            except ValueError as error:
                errors.append((word, str(error)))
        if errors:
            raise WordErrors(errors)
        return named

    def _label(self, value: Any, names: Sequence[str]) -> str:
        labels = self.definition.labels
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < len(names):
                raise ValueError(f"label id {value} is not one of 0..{len(names) - 1} "
                                 f"({', '.join(names)})")
            return names[value]
        if value not in labels:
            raise ValueError(f"unknown label {value!r}; valid: {', '.join(labels)}")
        return value

    def _hub_examples(self, rows: Any, where: str) -> list:
        """Examples of hub rows, after checking the columns and reading the class labels."""
        columns = self.definition.columns
        present = getattr(rows, "column_names", None)  # None: no rows (recording_hub_reads)
        missing = [column for column in columns.values() if column not in (present or ())]
        if present is not None and missing:
            raise DataError(f"{where}: no column(s) {', '.join(map(repr, missing))} for "
                            f"{self.dataset}; its columns: {', '.join(present)}")
        names = label_names(rows, columns[self.kind.label_role], self.definition.labels, where)
        examples = []
        for index, row in enumerate(rows):
            try:
                examples.append(self._example({r: row[c] for r, c in columns.items()}, names))
            except ValueError as error:
                raise DataError(f"{where}, row {index}: {error}") from None
        return examples
