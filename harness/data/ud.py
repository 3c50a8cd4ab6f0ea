"""Universal Dependencies POS data: local CoNLL-U folders or a hub copy of UD.

Example::

    from harness.data import ud
    sentences = ud.load(DataSource(path="fixtures/ud"), "tgl", "test")   # tags are UPOS

Local form: ``<path>/<lang>/<split>.conllu`` (canonical ISO 639-3 ``lang``), parsed with the
``conllu`` library. Multi-word token ranges (``1-2``) and empty nodes (``1.1``) are skipped, so
the tokens are the syntactic words that carry the UPOS tags. Every token line must have the
10 CoNLL-U columns.

Hub form: ``datasets.load_dataset(hub, <treebank>, split=split, revision=revision)`` on a dataset
with the schema of ``universal_dependencies`` (``tokens`` and ``upos`` class labels); tokens
whose UPOS is ``_`` (multi-word ranges) are skipped. The original loading script does not run
under ``datasets`` ≥ 4: point ``revision`` at a Parquet conversion (e.g. ``refs/convert/parquet``)
or use local CoNLL-U folders. A language with several treebanks reads all of them, concatenated.

Treebanks: the targets' are those of the authors' code (PAPER.md, UD v2.13): am_att, lij_glt,
olo_kkpp, sa_ufal + sa_vedic, sd_mazhardootio, si_stb, ta_mwtt, tl_trg + tl_ugnayan, tt_nmctt.
The paper does not name the sources' treebanks; we take the largest one with a training split:
en_ewt, zh_gsdsimp (simplified script, like the other Chinese data), ru_syntagrus, ar_padt, ja_gsd.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import conllu

from harness.data._local import (
    check_split,
    check_splits,
    load_hub,
    mapped_code,
    read_lines,
    split_file,
)
from harness.data.examples import UPOS_LABELS, TaggedSentence
from harness.data.source import DataError, DataSource

DATASET = "Universal Dependencies"
COLUMNS = 10

TREEBANKS: dict[str, tuple[str, ...]] = {
    "eng": ("en_ewt",), "zho": ("zh_gsdsimp",), "rus": ("ru_syntagrus",), "ara": ("ar_padt",),
    "jpn": ("ja_gsd",), "amh": ("am_att",), "lij": ("lij_glt",), "olo": ("olo_kkpp",),
    "san": ("sa_ufal", "sa_vedic"), "snd": ("sd_mazhardootio",), "sin": ("si_stb",),
    "tam": ("ta_mwtt",), "tgl": ("tl_trg", "tl_ugnayan"), "tat": ("tt_nmctt",),
}
"""Canonical code → UD treebank names (hub configs)."""


def load(source: DataSource, lang: str, split: str) -> list[TaggedSentence]:
    """The sentences of ``lang``/``split`` with their UPOS tags."""
    if source.is_local:
        return parse_conllu(split_file(source, lang, split, ".conllu"))
    check_split(split, where=f"{source.hub} ({lang})")
    sentences = []
    for treebank in mapped_code(lang, TREEBANKS, f"{DATASET} {source.hub}"):
        sentences += _hub_sentences(load_hub(source, treebank, split))
    return sentences


def check(source: DataSource, lang: str, splits: Iterable[str]) -> None:
    """Raise a DataError unless ``lang`` has every split in ``splits`` (cheap, no parsing)."""
    check_splits(source, lang, splits, ".conllu", TREEBANKS, DATASET)


def parse_conllu(path: Path) -> list[TaggedSentence]:
    """The sentences of a CoNLL-U file; errors name the file and line."""
    sentences = []
    for start, lines in _blocks(read_lines(path)):
        sentence = _parse_block(path, start, lines)
        if sentence.tokens:
            sentences.append(sentence)
    return sentences


def _blocks(lines: list[str]) -> Iterable[tuple[int, list[str]]]:
    """(first line number, lines) of each blank-line separated block."""
    block: list[str] = []
    start = 1
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _parse_block(path: Path, start: int, lines: list[str]) -> TaggedSentence:
    numbers = [start + i for i, line in enumerate(lines) if not line.startswith("#")]
    if not numbers:
        return TaggedSentence((), ())  # comments only
    for number in numbers:
        fields = lines[number - start].split("\t")
        if len(fields) != COLUMNS:
            raise DataError(f"{path}:{number}: expected {COLUMNS} tab-separated CoNLL-U columns, "
                            f"got {len(fields)}")
    try:
        (token_list,) = conllu.parse("\n".join(lines) + "\n")
    except (conllu.exceptions.ParseException, ValueError) as error:
        raise DataError(f"{path}:{start}: cannot parse CoNLL-U sentence: {error}") from None
    tokens, tags = [], []
    for number, token in zip(numbers, token_list):
        if not isinstance(token["id"], int):
            continue  # multi-word range or empty node
        if token["upos"] not in UPOS_LABELS:
            raise DataError(f"{path}:{number}: unknown UPOS {token['upos']!r}; "
                            f"valid: {', '.join(UPOS_LABELS)}")
        tokens.append(token["form"])
        tags.append(token["upos"])
    return TaggedSentence(tuple(tokens), tuple(tags))


def _hub_sentences(rows) -> list[TaggedSentence]:
    names = rows.features["upos"].feature.names
    sentences = []
    for row in rows:
        pairs = [(t, names[u]) for t, u in zip(row["tokens"], row["upos"]) if names[u] != "_"]
        sentences.append(TaggedSentence(tuple(t for t, _ in pairs), tuple(u for _, u in pairs)))
    return sentences
