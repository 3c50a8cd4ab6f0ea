"""WikiANN named-entity data (NER): local CoNLL-style files or the hub dataset.

Example::

    from harness.data import wikiann
    sentences = wikiann.load(DataSource(path="fixtures/wikiann"), "amh", "test")
    wikiann.check(DataSource(hub="unimelb-nlp/wikiann"), "amh", ("validation", "test"))

Local form: ``<path>/<lang>/<split>.tsv`` with one ``token<TAB>tag`` line per token and a blank
line between sentences; ``lang`` is the canonical ISO 639-3 code and tags come from
:data:`~harness.data.examples.NER_LABELS`.

Hub form: ``datasets.load_dataset(hub, <wiki code>, split=split, revision=revision)`` with
WikiANN's fields ``tokens`` and ``ner_tags`` (integers; their names come from the dataset's
``ClassLabel``, which lists NER_LABELS in that order on the hub). The config is the
Wikipedia code of the language (``am``, ``zh``, ``ang`` …, see
:data:`harness.data._local.WIKIPEDIA_CODES`). ``check`` on the hub form only checks the
language and split names (no network).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.data._local import (
    WIKIPEDIA_CODES,
    check_split,
    check_splits,
    label_names,
    load_hub,
    mapped_code,
    scan_local_splits,
    split_file,
)
from harness.data.examples import NER_LABELS, TaggedSentence
from harness.data.problems import Problems, blank_line_groups, collecting, read_numbered
from harness.data.source import DataSource

DATASET = "WikiANN"


def load(source: DataSource, lang: str, split: str) -> list[TaggedSentence]:
    """The sentences of ``lang``/``split``, from local TSV files or the hub."""
    if source.is_local:
        return parse_tsv(split_file(source, lang, split, ".tsv"))
    check_split(split, where=f"{source.hub} ({lang})")
    config = mapped_code(lang, WIKIPEDIA_CODES, f"{DATASET} {source.hub}")
    rows = load_hub(source, config, split)
    names = label_names(rows, "ner_tags", NER_LABELS, f"{DATASET} {source.hub} ({config})")
    return [TaggedSentence(tuple(row["tokens"]), tuple(names[t] for t in row["ner_tags"]))
            for row in rows]


def check(source: DataSource, lang: str, splits: Iterable[str],
          problems: Problems | None = None) -> None:
    """Raise a DataError unless ``lang`` has every split in ``splits``.

    Local files are read line by line: every malformed line, unknown tag, bad encoding or empty
    split goes to ``problems`` (without one, a DataError lists them). Hub: names only.
    """
    check_splits(source, lang, splits, ".tsv", WIKIPEDIA_CODES, DATASET)
    scan_local_splits(source, lang, splits, ".tsv", parse_tsv, problems)


def parse_tsv(path: Path, problems: Problems | None = None) -> list[TaggedSentence]:
    """Sentences of a ``token<TAB>tag`` file; every malformed line is reported with its number."""
    with collecting(problems) as found:
        def word(number: int, line: str) -> tuple[str, str] | None:
            error = _line_error(line)
            if error:
                found.add(path, number, error)
                return None
            token, tag = line.split("\t")
            return token, tag

        sentences = []
        for words in blank_line_groups(read_numbered(path, found), word):
            tokens, tags = zip(*words)
            sentences.append(TaggedSentence(tokens, tags))
        found.require(path, len(sentences), "sentences")
    return sentences


def _line_error(line: str) -> str | None:
    fields = line.split("\t")
    if len(fields) != 2 or not fields[0]:
        return f"expected 'token<TAB>tag', got {line!r}"
    if fields[1] not in NER_LABELS:
        return f"unknown tag {fields[1]!r}; valid: {', '.join(NER_LABELS)}"
    return None
