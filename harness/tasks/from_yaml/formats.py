"""The local file formats of YAML tasks: rows by role, each with the line it starts on.

Example::

    problems = Problems()
    rows = read_rows(Path("eng/train.tsv"), "tsv", {"text": "text", "label": "category"}, problems)
    rows[0]          # Row(line=2, values={'text': 'Addis Ababa is ...', 'label': 'travel'})

``columns`` maps each role of the task kind to its column (docs/yaml-tasks.md). Every line
that cannot be read (bad UTF-8, a missing column, a wrong field count, bad JSON) goes to
``problems`` as ``file:line: message`` and is skipped, so that ``validate`` lists them all.

* ``tsv``: a header row naming the columns, tab-separated fields, no quoting (as the NLI files);
* ``csv``: a header row, RFC 4180 quoting (Python's :mod:`csv`); a row is reported at its first line;
* ``quoted_tsv``: as ``csv`` with tabs between the fields: the TSV that pandas writes, which
  puts a field holding a double quote, a tab or a newline between double quotes (SIB-200's
  repository files);
* ``jsonl``: one JSON object per line; blank lines are skipped;
* ``conll``: ``token<TAB>tag`` (or space-separated) per line, a blank line between sentences,
  the first field the token and the last the tag, ``-DOCSTART-`` lines skipped (CoNLL-2003,
  MasakhaNER); ``columns`` is not read. A line that is its separator then one tag (`` O``) is
  the word ``''`` with that tag, as the datasets' own loaders read it (``line.split(" ")``:
  token ``''``, tag ``O``; MasakhaNER 2.0's ``xho/train.txt`` has two): each such line is
  counted as a notice (:data:`EMPTY_TOKEN`, a ``note:`` of ``validate``), not a problem;
* ``conllu``: CoNLL-U, FORM is the token and UPOS the tag; comments, multiword-token ranges
  (``1-2``) and empty nodes (``1.1``) are skipped.

A sentence of the last two keeps each word's own line (:attr:`Row.word_lines`), so that a bad
tag is reported where it is, not at the sentence's first line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data.problems import Problems, blank_line_groups, read_numbered


@dataclass(frozen=True)
class Row:
    """One row: the line it starts on, its value per role, and each word's line (conll, conllu)."""

    line: int
    values: dict[str, Any]
    word_lines: tuple[int, ...] = ()

    def line_of(self, word: int) -> int:
        """The line of word ``word`` (its position in the row): its own when known, else the row's."""
        return self.word_lines[word] if word < len(self.word_lines) else self.line


Reader = Callable[[Path, Mapping[str, str], Problems], Iterator[Row]]
"""A format's reader: (file, role → column, problems) → rows."""

CONLLU_FIELDS = 10
CONLLU_FORM, CONLLU_UPOS = 1, 3
DOCSTART = "-DOCSTART-"
EMPTY_TOKEN = ("with an empty token (a separator, then the tag), read as the dataset's own loader "
               "reads it: the word '' with that tag")
"""What a conll line `` O`` is noticed as (:meth:`harness.data.problems.Problems.notice`)."""


def read_rows(path: Path, format: str, columns: Mapping[str, str], problems: Problems) -> list[Row]:
    """The rows of ``path`` in ``format`` (module docstring); bad lines go to ``problems``."""
    return list(READERS[format](path, columns, problems))


def _header_index(path: Path, number: int, header: list[str], columns: Mapping[str, str],
                  problems: Problems) -> dict[str, int] | None:
    """Role → field index, or None (reported) when the header lacks a column."""
    missing = [column for column in columns.values() if column not in header]
    if missing:
        problems.add(path, number, f"missing column(s) {', '.join(map(repr, missing))}; the "
                                   f"header has {', '.join(map(repr, header))}")
        return None
    return {role: header.index(column) for role, column in columns.items()}


def _delimited(path: Path, columns: Mapping[str, str], problems: Problems,
               records: Iterator[tuple[int, list[str]]]) -> Iterator[Row]:
    """Rows of a header-first table whose records are (first line, fields)."""
    first = next(records, None)
    if first is None:
        return
    index = _header_index(path, first[0], first[1], columns, problems)
    if index is None:
        return
    for number, fields in records:
        if fields == [] or fields == [""]:
            continue
        if len(fields) != len(first[1]):
            problems.add(path, number, f"expected {len(first[1])} fields like the header "
                                       f"({', '.join(first[1])}), got {len(fields)}")
            continue
        yield Row(number, {role: fields[i] for role, i in index.items()})


def _tsv(path: Path, columns: Mapping[str, str], problems: Problems) -> Iterator[Row]:
    records = ((number, line.split("\t")) for number, line in read_numbered(path, problems))
    return _delimited(path, columns, problems, records)


def _csv_records(path: Path, problems: Problems, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each CSV record; a record may span lines (quoted newlines)."""
    consumed: list[int] = []

    def lines() -> Iterator[str]:
        for number, line in read_numbered(path, problems):
            consumed.append(number)
            yield line + "\n"

    reader = csv.reader(lines(), delimiter=delimiter)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(path, consumed[0] if consumed else None, f"not valid CSV: {error}")
            consumed.clear()
            continue
        start = consumed[0]
        consumed.clear()
        yield start, fields


def _quoted(delimiter: str) -> Reader:
    """The reader of header-first RFC 4180 tables whose fields ``delimiter`` separates."""
    def read(path: Path, columns: Mapping[str, str], problems: Problems) -> Iterator[Row]:
        return _delimited(path, columns, problems, _csv_records(path, problems, delimiter))
    return read


def _jsonl(path: Path, columns: Mapping[str, str], problems: Problems) -> Iterator[Row]:
    for number, line in read_numbered(path, problems):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.add(path, number, f"not valid JSON: {error.msg} (column {error.colno})")
            continue
        if not isinstance(record, dict):
            problems.add(path, number, f"expected a JSON object, got {type(record).__name__}")
            continue
        missing = [column for column in columns.values() if column not in record]
        if missing:
            problems.add(path, number, f"missing key(s) {', '.join(map(repr, missing))}; the "
                                       f"object has {', '.join(map(repr, record))}")
            continue
        yield Row(number, {role: record[column] for role, column in columns.items()})


def _sentences(path: Path, problems: Problems,
               word: Callable[[str], tuple[str, str] | str | None],
               empty_token: str | None = None) -> Iterator[Row]:
    """Sentences (blank-line separated) of one word per line.

    ``word`` gives a line's (token, tag), None to skip the line, or what is wrong with it.
    ``empty_token``: the notice of a word whose token is ``''`` (None: no notice).
    """
    def numbered_word(number: int, line: str) -> tuple[int, str, str] | None:
        parsed = word(line)
        if isinstance(parsed, str):
            problems.add(path, number, parsed)
            return None
        if parsed is not None and empty_token is not None and parsed[0] == "":
            problems.notice(path, number, empty_token)
        return None if parsed is None else (number, *parsed)

    for words in blank_line_groups(read_numbered(path, problems), numbered_word):
        lines, tokens, tags = zip(*words)
        yield Row(lines[0], {"tokens": list(tokens), "tags": list(tags)}, lines)


def _conll_word(line: str) -> tuple[str, str] | str | None:
    """(token, tag) of a conll line; `` O`` (a separator, then one tag) is ``("", "O")``."""
    fields = line.split("\t") if "\t" in line else line.split()
    if fields[0] == DOCSTART:
        return None
    if line[0] in " \t" and len(line.split()) == 1:  # no token before the separator
        return "", line.split()[0]
    if len(fields) < 2 or not fields[0] or not fields[-1]:
        return f"expected 'token<TAB>tag' (or 'token tag'), got {line!r}"
    return fields[0], fields[-1]


def _conllu_word(line: str) -> tuple[str, str] | str | None:
    if line.startswith("#"):
        return None
    fields = line.split("\t")
    if len(fields) != CONLLU_FIELDS:
        return f"expected {CONLLU_FIELDS} tab-separated CoNLL-U fields, got {len(fields)}"
    if "-" in fields[0] or "." in fields[0]:
        return None  # a multiword-token range or an empty node: not a word of the sentence
    return fields[CONLLU_FORM], fields[CONLLU_UPOS]


def _word_per_line(word: Callable[[str], tuple[str, str] | str | None],
                   empty_token: str | None = None) -> Reader:
    """The reader of blank-line separated sentences whose lines ``word`` parses (:func:`_sentences`)."""
    def read(path: Path, columns: Mapping[str, str], problems: Problems) -> Iterator[Row]:
        return _sentences(path, problems, word, empty_token)
    return read


READERS: dict[str, Reader] = {
    "tsv": _tsv, "quoted_tsv": _quoted("\t"), "csv": _quoted(","), "jsonl": _jsonl,
    "conll": _word_per_line(_conll_word, EMPTY_TOKEN), "conllu": _word_per_line(_conllu_word),
}
"""Format name (``local.format``) → row reader."""
