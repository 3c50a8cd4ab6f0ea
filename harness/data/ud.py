"""Universal Dependencies POS data: official release files, local CoNLL-U folders or a hub copy.

Example::

    from harness.data import ud
    sentences = ud.load(DataSource(release="ud"), "tgl", "test")        # UD v2.13, tags are UPOS
    sentences = ud.load(DataSource(path="fixtures/ud"), "tgl", "test")

Release form (``release: ud``, the paper suites' default): the CoNLL-U files of the language's
treebanks from the official release tarball at a pinned version (``revision``, default 2.13,
:mod:`harness.data.releases`), laid out as
``ud-treebanks-v2.13/UD_<Language>-<TB>/<lang>_<tb>-ud-<train|dev|test>.conllu``; split
``validation`` is the ``dev`` file. A language with several treebanks reads every one of them
that has the split, concatenated in the order of :data:`TREEBANKS` (``san``: sa_ufal then
sa_vedic). The tarball is downloaded once and only the needed treebank folders are unpacked.
A split may be cut into parts, ``<tb>-ud-train-a.conllu``, ``-b``, ``-c`` (ru_syntagrus at
r2.13, "just for GitHub"): the parts are read in name order, as one file.
The file-set release ``ud_repositories`` holds the same layout file by file (each treebank
repository at its ``r2.13`` tag, or Sindhi at its pinned ``dev`` commit): only the files of the
needed splits are downloaded. A suite reads Sindhi that way through ``language_data``.

Local form: ``<path>/<lang>/<split>.conllu`` (canonical ISO 639-3 ``lang``), parsed with the
``conllu`` library. Every token line must have the 10 CoNLL-U columns.

Hub form: ``datasets.load_dataset(hub, <treebank>, split=split, revision=revision)`` on a dataset
with the schema of ``universal_dependencies`` (one entry per CoNLL-U line: ``tokens``, ``upos``
class labels, ``head`` as text). The original loading script does not run under ``datasets`` ≥ 4
and the hub copy is UD 2.7, which lacks lij_glt, sd_mazhardootio, si_stb and tt_nmctt: prefer
the release form.

In every form, multi-word token ranges (``1-2``) and empty nodes (``10.1``) are skipped, so the
tokens are the syntactic words of the basic tree, which carry the UPOS tags (hub rows have no
ids: a line is a word when its ``head`` is an integer). Tags outside UD v2 are an error naming
the file and line, unless the source says ``legacy_upos: map``: then what UD's own v1→v2
conversion does to UPOS is done (udapi's ``ud.Convert1to2``, the successor of the UD tools'
``v2-conversion``; universaldependencies.org/v2/summary.html): ``CONJ`` becomes ``CCONJ`` (the
only renamed tag) and a copula (deprel ``cop``) becomes ``AUX`` unless it is ``AUX`` or ``PRON``
(v2 tags every copula AUX); the Google universal tags ``PRT`` and ``.`` become ``PART`` and
``PUNCT``. A tag of neither inventory (e.g. ``ONOM``, ``AFFIX`` of a treebank's own tagset) has
no official mapping: the error says so and points at the treebank's UD v2 release.

Treebanks: the targets' are those of the authors' code (PAPER.md, UD v2.13): am_att, lij_glt,
olo_kkpp, sa_ufal + sa_vedic, sd_mazhardootio, si_stb, ta_mwtt, tl_trg + tl_ugnayan, tt_nmctt.
The paper does not name the sources' treebanks; we take the largest one with a training split:
en_ewt, zh_gsdsimp (simplified script, like the other Chinese data), ru_syntagrus, ar_padt, ja_gsd.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import conllu

from harness.data import releases
from harness.data._local import (
    check_split,
    check_splits,
    load_hub,
    mapped_code,
    split_file,
)
from harness.data.examples import UPOS_LABELS, TaggedSentence
from harness.data.problems import Problems, blank_line_groups, collecting, read_numbered
from harness.data.release_pins import release_version
from harness.data.source import DataError, DataSource

DATASET = "Universal Dependencies"
COLUMNS = 10

TREEBANKS: dict[str, tuple[str, ...]] = {
    "eng": ("en_ewt",), "zho": ("zh_gsdsimp",), "rus": ("ru_syntagrus",), "ara": ("ar_padt",),
    "jpn": ("ja_gsd",), "amh": ("am_att",), "lij": ("lij_glt",), "olo": ("olo_kkpp",),
    "san": ("sa_ufal", "sa_vedic"), "snd": ("sd_mazhardootio",), "sin": ("si_stb",),
    "tam": ("ta_mwtt",), "tgl": ("tl_trg", "tl_ugnayan"), "tat": ("tt_nmctt",),
}
"""Canonical code → UD treebank names (hub configs, release file prefixes)."""

FOLDERS: dict[str, str] = {
    "en_ewt": "UD_English-EWT", "zh_gsdsimp": "UD_Chinese-GSDSimp",
    "ru_syntagrus": "UD_Russian-SynTagRus", "ar_padt": "UD_Arabic-PADT", "ja_gsd": "UD_Japanese-GSD",
    "am_att": "UD_Amharic-ATT", "lij_glt": "UD_Ligurian-GLT", "olo_kkpp": "UD_Livvi-KKPP",
    "sa_ufal": "UD_Sanskrit-UFAL", "sa_vedic": "UD_Sanskrit-Vedic",
    "sd_mazhardootio": "UD_Sindhi-MazharDootio", "si_stb": "UD_Sinhala-STB",
    "ta_mwtt": "UD_Tamil-MWTT", "tl_trg": "UD_Tagalog-TRG", "tl_ugnayan": "UD_Tagalog-Ugnayan",
    "tt_nmctt": "UD_Tatar-NMCTT",
}
"""Treebank → its folder in the release (``UD_<Language>-<TB>``)."""

RELEASE_SPLITS = {"train": "train", "validation": "dev", "test": "test"}
"""Our split names → the release's file names."""

LEGACY_UPOS = {"CONJ": "CCONJ", "PRT": "PART", ".": "PUNCT"}
"""UD v1 and Google universal tags → UD v2 (``legacy_upos: map``)."""

COPULA_TAGS = ("AUX", "PRON")
"""The tags a copula keeps under ``legacy_upos: map``; any other becomes AUX (ud.Convert1to2)."""


def load(source: DataSource, lang: str, split: str) -> list[TaggedSentence]:
    """The sentences of ``lang``/``split`` with their UPOS tags."""
    if source.is_local:
        return parse_conllu(split_file(source, lang, split, ".conllu"), source.legacy_upos)
    if source.release is not None:
        files = release_files(source, lang, split)
        return [s for path in files for s in parse_conllu(path, source.legacy_upos)]
    check_split(split, where=f"{source.hub} ({lang})")
    sentences = []
    for treebank in mapped_code(lang, TREEBANKS, f"{DATASET} {source.hub}"):
        rows = load_hub(source, treebank, split)
        sentences += _hub_sentences(rows, f"{source.hub} {treebank} {split}", source.legacy_upos)
    return sentences


def check(source: DataSource, lang: str, splits: Iterable[str],
          problems: Problems | None = None) -> None:
    """Raise a DataError unless ``lang`` has every split in ``splits``.

    The release form fetches the release on first use (once) and checks the files exist. Local
    and release files are then read: every bad line (columns, UPOS, encoding) and empty split
    goes to ``problems`` (without one, a DataError lists them). Hub: names only.
    """
    if source.release is None:
        check_splits(source, lang, splits, ".conllu", TREEBANKS, DATASET)
        files = [split_file(source, lang, split, ".conllu") for split in splits] \
            if source.is_local else []
    else:
        files = [path for split in splits for path in release_files(source, lang, split)]
    with collecting(problems) as found:
        for path in files:
            parse_conllu(path, source.legacy_upos, found)


def release_files(source: DataSource, lang: str, split: str) -> list[Path]:
    """The CoNLL-U files of ``lang``/``split`` in the release, fetched (once) and unpacked."""
    _, version = release_version(source.release, source.revision)
    where = f"{DATASET} {version} (release {source.release!r})"
    check_split(split, where=f"{where} ({lang})")
    treebanks = mapped_code(lang, TREEBANKS, where)
    folders = [mapped_code(tb, FOLDERS, f"{where}: folder of treebank") for tb in treebanks]
    held = releases.pinned_files(source, DATASET)
    if held:  # a file set: fetch only the pinned files of this split
        wanted = [[name for name in held if _is_split_file(name, folder, tb, split)]
                  for tb, folder in zip(treebanks, folders)]
        present = [releases.fetch_file(source, DATASET, name) for names in wanted for name in names]
        there = [name for name in held if name.split("/")[0] in folders]
    else:
        root = releases.fetch_archive_members(source, DATASET, folders)
        present = [path for tb, folder in zip(treebanks, folders)
                   for path in sorted((root / folder).glob(f"{tb}-ud-{RELEASE_SPLITS[split]}*"))
                   if _is_split_file(f"{folder}/{path.name}", folder, tb, split)]
        there = [f"{folder}/{p.name}" for folder in folders for p in (root / folder).glob("*.conllu")]
    if not present:
        expected = [f"{folder}/{tb}-ud-{RELEASE_SPLITS[split]}.conllu"
                    for tb, folder in zip(treebanks, folders)]
        raise DataError(f"{where} has no {split!r} split for {lang!r}: none of "
                        f"{', '.join(expected)}; files there: {', '.join(sorted(there)) or 'none'}")
    return present


def _is_split_file(relative: str, folder: str, tb: str, split: str) -> bool:
    """Whether ``relative`` is ``<folder>/<tb>-ud-<split>.conllu`` or one part ``…-<split>-a``."""
    top, _, name = relative.partition("/")
    stem = f"{tb}-ud-{RELEASE_SPLITS[split]}"
    return top == folder and (name == f"{stem}.conllu" or re.fullmatch(
        rf"{re.escape(stem)}-[a-z]\.conllu", name) is not None)


def parse_conllu(path: Path, legacy_upos: str = "error",
                 problems: Problems | None = None) -> list[TaggedSentence]:
    """The sentences of a CoNLL-U file; every problem is reported with the file and line."""
    sentences = []
    with collecting(problems) as found:
        for block in blank_line_groups(read_numbered(path, found), _numbered):
            sentence = _parse_block(path, block, legacy_upos, found)
            if sentence is not None and sentence.tokens:
                sentences.append(sentence)
        found.require(path, len(sentences), "sentences")
    return sentences


def _numbered(number: int, line: str) -> tuple[int, str]:
    """A block's line with its number: the comments are kept, for :mod:`conllu` to parse."""
    return number, line


def _parse_block(path: Path, block: list[tuple[int, str]], legacy_upos: str,
                 problems: Problems) -> TaggedSentence | None:
    """The block's sentence, or None (reported to ``problems``) when it cannot be read."""
    words = [(number, line) for number, line in block if not line.startswith("#")]
    bad = [(number, len(line.split("\t"))) for number, line in words
           if len(line.split("\t")) != COLUMNS]
    for number, got in bad:
        problems.add(path, number, f"expected {COLUMNS} tab-separated CoNLL-U columns, got {got}")
    if bad or not words:
        return None
    try:
        (token_list,) = conllu.parse("\n".join(line for _, line in block) + "\n")
    except (conllu.exceptions.ParseException, ValueError) as error:
        problems.add(path, block[0][0], f"cannot parse CoNLL-U sentence: {error}")
        return None
    tokens, tags = [], []
    for (number, _), token in zip(words, token_list):
        if not isinstance(token["id"], int):
            continue  # multi-word range or empty node
        tag, error = _upos(token["upos"], legacy_upos, token["deprel"])
        if error:
            problems.add(path, number, error)
        tokens.append(token["form"])
        tags.append(tag)
    return TaggedSentence(tuple(tokens), tuple(tags))


def _upos(tag: str, legacy_upos: str, deprel: str | None = None) -> tuple[str, str | None]:
    """``tag`` as a UD v2 UPOS (legacy tags mapped under ``map``), and what is wrong with it."""
    if legacy_upos == "map":
        tag = LEGACY_UPOS.get(tag, tag)
        if deprel == "cop" and tag in UPOS_LABELS and tag not in COPULA_TAGS:
            tag = "AUX"
    if tag in UPOS_LABELS:
        return tag, None
    return tag, f"unknown UPOS {tag!r} ({_unknown_tag_hint(tag)}); valid: {', '.join(UPOS_LABELS)}"


def _unknown_tag_hint(tag: str) -> str:
    """What to do about a tag outside UD v2: map it by option, or convert the treebank."""
    if tag in LEGACY_UPOS:  # seen only without the option
        return (f"a UD v1 / Google universal tag: set `legacy_upos: map` on the data source to "
                f"map it to {LEGACY_UPOS[tag]}")
    return ("not a tag of UD v1 or v2, so `legacy_upos: map` cannot map it: UD's v1→v2 "
            "conversion renames only CONJ to CCONJ (and tags copulas AUX). It comes from the "
            "treebank's own tagset: use the treebank's UD v2 release, or convert its tags to UD "
            "v2 UPOS as its documentation says")


def upos_v2(tag: str, legacy_upos: str, where: str, deprel: str | None = None) -> str:
    """``tag`` as a UD v2 UPOS (legacy tags mapped under ``map``), or a DataError at ``where``."""
    tag, error = _upos(tag, legacy_upos, deprel)
    if error:
        raise DataError(f"{where}: {error}")
    return tag


def _hub_sentences(rows, where: str, legacy_upos: str) -> list[TaggedSentence]:
    """Words of hub rows: lines whose ``head`` is an integer (no ranges, no empty nodes)."""
    names = rows.features["upos"].feature.names
    sentences = []
    for index, row in enumerate(rows):
        heads = row.get("head") or [None] * len(row["tokens"])
        deprels = row.get("deprel") or [None] * len(row["tokens"])
        words = [(token, names[u], deprel)
                 for token, u, head, deprel in zip(row["tokens"], row["upos"], heads, deprels)
                 if (head.isdigit() if head is not None else names[u] != "_")]
        tags = tuple(upos_v2(u, legacy_upos, f"{where} row {index}", deprel) for _, u, deprel in words)
        sentences.append(TaggedSentence(tuple(token for token, _, _ in words), tags))
    return sentences
