"""NLI data: XNLI for the source languages, AmericasNLI for the targets.

Example::

    from harness.data import nli
    pairs = nli.load(DataSource(path="fixtures/nli"), "aym", "test")
    pairs[0].label   # index into NLI_LABELS

Local form: ``<path>/<lang>/<split>.tsv`` (canonical ISO 639-3 ``lang``) with the header
``premise<TAB>hypothesis<TAB>label`` and the label written as a name from
:data:`~harness.data.examples.NLI_LABELS`. Fields may not contain tabs (no quoting).

Hub form: ``datasets.load_dataset(hub, config, split=split, revision=revision)`` with fields
``premise``, ``hypothesis`` and an integer ``label`` whose names come from the dataset's
``ClassLabel`` (NLI_LABELS, in that order, on XNLI and AmericasNLI). The language picks the
dataset's config: AmericasNLI codes for its ten languages (``aym``, ``gn`` for Guarani, ``quy``
…; validation and test splits only), XNLI's ISO 639-1 codes for the others (XNLI has no
Japanese, which is why the paper trains NLI on en, zh, ar, ru). ``check`` on the hub form only
checks names (no network).

Release form (``release: americasnli``, :mod:`harness.data.releases`): the AmericasNLI files of
its authors' repository ``nala-cub/AmericasNLI`` at a pinned commit, the files the hub dataset
was built from: ``dev/<code>.tsv`` (our ``validation``) and ``test/<code>.tsv``, with the
header ``language<TAB>premise<TAB>hypothesis<TAB>label`` and labels by name. Read and checked
line by line like the local form.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.data import releases
from harness.data._local import (
    check_local_splits,
    check_split,
    label_names,
    load_hub,
    mapped_code,
    scan_local_splits,
    split_file,
)
from harness.data.examples import NLI_LABELS, SentencePair
from harness.data.problems import Problems, collecting, read_numbered
from harness.data.source import DataError, DataSource

HEADER = ("premise", "hypothesis", "label")
RELEASE_HEADER = ("language", *HEADER)
RELEASE_SPLITS = {"validation": "dev", "test": "test"}
"""Our split names → the AmericasNLI repository's folders."""

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
    if source.release is not None:
        return parse_tsv(release_file(source, lang, split), header=RELEASE_HEADER)
    _check_hub(source, lang, split)
    rows = load_hub(source, HUB_CODES[lang], split)
    names = label_names(rows, "label", NLI_LABELS, f"{source.hub} ({HUB_CODES[lang]})")
    return [_hub_pair(source, row, names) for row in rows]


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
    if source.release is not None:
        files = [release_file(source, lang, split) for split in splits]
        with collecting(problems) as found:
            for path in files:
                parse_tsv(path, found, header=RELEASE_HEADER)
        return
    for split in splits:
        _check_hub(source, lang, split)


def release_file(source: DataSource, lang: str, split: str) -> Path:
    """The release's file of ``lang``/``split``, fetched (once) into the data cache."""
    where = f"AmericasNLI (release {source.release!r})"
    code = mapped_code(lang, AMERICASNLI_CODES, f"{where}; XNLI or local files serve the others")
    check_split(split, AMERICASNLI_SPLITS, where=f"{where} ({lang})")
    return releases.fetch_file(source, "AmericasNLI", f"{RELEASE_SPLITS[split]}/{code}.tsv")


def _check_hub(source: DataSource, lang: str, split: str) -> None:
    mapped_code(lang, HUB_CODES, f"XNLI/AmericasNLI ({source.hub})")
    if lang in AMERICASNLI_CODES:
        check_split(split, AMERICASNLI_SPLITS, where=f"AmericasNLI {source.hub} ({lang})")
    else:
        check_split(split, where=f"XNLI {source.hub} ({lang})")


def _hub_pair(source: DataSource, row: dict, names: tuple[str, ...]) -> SentencePair:
    if row["label"] not in range(len(names)):
        raise DataError(f"hub dataset {source.hub!r}: label {row['label']!r} is not one of "
                        f"0..{len(names) - 1}")
    return SentencePair(row["premise"], row["hypothesis"], NLI_LABELS.index(names[row["label"]]))


def parse_tsv(path: Path, problems: Problems | None = None,
              header: tuple[str, ...] = HEADER) -> list[SentencePair]:
    """The pairs of a ``premise<TAB>hypothesis<TAB>label`` file with a header line.

    ``header`` ``RELEASE_HEADER``: the AmericasNLI repository's files, whose first column (the
    language) is dropped.
    """
    pairs = []
    skip = len(header) - len(HEADER)
    with collecting(problems) as found:
        lines = read_numbered(path, found)
        first = next(lines, None)
        if first is not None and tuple(first[1].split("\t")) != header:
            found.add(path, first[0], f"expected the header {'<TAB>'.join(header)!r}")
        for number, line in lines:
            pair = _pair(line.split("\t", skip)[-1]) if line.strip() else None
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
