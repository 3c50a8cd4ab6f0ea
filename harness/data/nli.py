"""NLI data: XNLI for the source languages, AmericasNLI for the targets.

Example::

    from harness.data import nli
    pairs = nli.load(DataSource(path="fixtures/nli"), "aym", "test")
    pairs[0].label   # index into NLI_LABELS

Local form: ``<path>/<lang>/<split>.tsv`` (canonical ISO 639-3 ``lang``) with the header
``premise<TAB>hypothesis<TAB>label`` and the label written as a name from
:data:`~harness.data.examples.NLI_LABELS`. Fields may not contain tabs (no quoting).

Hub form: ``datasets.load_dataset(hub, config, split=split, revision=revision)`` with fields
``premise``, ``hypothesis`` and an integer ``label`` in NLI_LABELS order. The language picks the
dataset's config: AmericasNLI codes for its ten languages (``aym``, ``gn`` for Guarani, ``quy``
…; validation and test splits only), XNLI's ISO 639-1 codes for the others (XNLI has no
Japanese, which is why the paper trains NLI on en, zh, ar, ru). ``check`` on the hub form only
checks names (no network).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.data._local import (
    check_local_splits,
    check_split,
    load_hub,
    mapped_code,
    scan_local_splits,
    split_file,
)
from harness.data.examples import NLI_LABELS, SentencePair
from harness.data.problems import Problems, collecting, read_numbered
from harness.data.source import DataError, DataSource

HEADER = ("premise", "hypothesis", "label")

AMERICASNLI_CODES = {
    "aym": "aym", "bzd": "bzd", "cni": "cni", "grn": "gn", "hch": "hch",
    "nah": "nah", "oto": "oto", "quy": "quy", "shp": "shp", "tar": "tar",
}
AMERICASNLI_SPLITS = ("validation", "test")
XNLI_CODES = {"eng": "en", "zho": "zh", "rus": "ru", "ara": "ar"}
"""XNLI configs of the harness's source languages (XNLI has no Japanese)."""
HUB_CODES = {**XNLI_CODES, **AMERICASNLI_CODES}


def load(source: DataSource, lang: str, split: str) -> list[SentencePair]:
    """The sentence pairs of ``lang``/``split``."""
    if source.is_local:
        return parse_tsv(split_file(source, lang, split, ".tsv"))
    _check_hub(source, lang, split)
    rows = load_hub(source, HUB_CODES[lang], split)
    return [_hub_pair(source, row) for row in rows]


def check(source: DataSource, lang: str, splits: Iterable[str],
          problems: Problems | None = None) -> None:
    """Raise a DataError unless ``lang`` has every split in ``splits``.

    Local files are read line by line: every problem (header, fields, labels, encoding, empty
    split) goes to ``problems`` (without one, a DataError lists them). Hub: names only.
    """
    if source.is_local:
        check_local_splits(source, lang, splits, ".tsv")
        scan_local_splits(source, lang, splits, ".tsv", parse_tsv, problems)
        return
    for split in splits:
        _check_hub(source, lang, split)


def _check_hub(source: DataSource, lang: str, split: str) -> None:
    mapped_code(lang, HUB_CODES, f"XNLI/AmericasNLI ({source.hub})")
    if lang in AMERICASNLI_CODES:
        check_split(split, AMERICASNLI_SPLITS, where=f"AmericasNLI {source.hub} ({lang})")
    else:
        check_split(split, where=f"XNLI {source.hub} ({lang})")


def _hub_pair(source: DataSource, row: dict) -> SentencePair:
    if row["label"] not in range(len(NLI_LABELS)):
        raise DataError(f"hub dataset {source.hub!r}: label {row['label']!r} is not one of "
                        f"0..{len(NLI_LABELS) - 1}")
    return SentencePair(row["premise"], row["hypothesis"], int(row["label"]))


def parse_tsv(path: Path, problems: Problems | None = None) -> list[SentencePair]:
    """The pairs of a ``premise<TAB>hypothesis<TAB>label`` file with a header line."""
    pairs = []
    with collecting(problems) as found:
        lines = read_numbered(path, found)
        header = next(lines, None)
        if header is not None and tuple(header[1].split("\t")) != HEADER:
            found.add(path, header[0], f"expected the header {'<TAB>'.join(HEADER)!r}")
        for number, line in lines:
            pair = _pair(line) if line.strip() else None
            if isinstance(pair, str):
                found.add(path, number, pair)
            elif pair is not None:
                pairs.append(pair)
        found.require(path, len(pairs), "sentence pairs")
    return pairs


def _pair(line: str) -> SentencePair | str:
    """The pair on ``line``, or what is wrong with it."""
    fields = line.split("\t")
    if len(fields) != len(HEADER):
        return (f"expected 3 tab-separated fields (premise, hypothesis, label), "
                f"got {len(fields)}")
    premise, hypothesis, label = fields
    if label not in NLI_LABELS:
        return f"unknown label {label!r}; valid: {', '.join(NLI_LABELS)}"
    return SentencePair(premise, hypothesis, NLI_LABELS.index(label))
