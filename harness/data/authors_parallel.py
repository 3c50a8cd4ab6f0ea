"""The UniBridge authors' own K parallel sentences per (target, source) pair (format ``unibridge``).

Example (suite YAML)::

    parallel:
      - {format: unibridge, data: {release: unibridge_alignment}}

The authors' repository (TokisakiKurumi2001/UniBridge at commit 6a38462, the head of its ``dev``
branch; its ``main`` points to the official VinAIResearch/UniBridge, which holds the same files
and is the release's mirror) ships the sentences
their ``weight.py`` embedded for the harmony weights of all 28 targets (PAPER.md stage 5), as
``xlm/alignment/{flores,opus}/<dir>/<tgt>-<src>.txt`` (``flores/am/amh_Ethi-eng_Latn.txt``,
``opus/ang/ang_Latn-zho_Hant.txt``); ``mbert/alignment/`` holds the same bytes plus Tajik. Each
file is blocks of two lines, ``<code>: sentence``, separated by a blank line; codes are FLORES-200
style (:data:`AUTHOR_CODES`: Chinese ``zho_Hant``, Arabic ``arb_Arab``, Tagalog ``tgl_Latn``,
Guarani ``grn_Latn``). The release ``unibridge_alignment`` (:mod:`harness.data.releases`) pins
every file by SHA-256 and downloads only the files a suite reads, once, into the data cache.

How a pair is read: exactly as ``weight.py``'s ``load_data`` and ``gen_weight`` do. Newlines are
dropped and empty lines skipped; of the remaining lines, the first of each block (even index) is
the *source* side and the second (odd index) the *target* side, each minus its ``<code>: ``
prefix (``weight.py`` cuts ``len("eng_Latn: ")`` characters; the prefix is checked here to have
that shape). The source sentences of (t, s) come from ``<t>-<s>.txt``; the **target sentences come
from the target–English file ``<t>-eng_Latn.txt`` for every source** (``gen_weight`` embeds the
target once, from the English file). Pair *i* is (target line *i* of the English file, source line
*i* of the (t, s) file). Choice: positional, not by the line's code, so that the weights are the
authors'. Where the two differ is in docs/data.md ("The authors' alignment files"): the blocks of
``aym_Latn-eng_Latn.txt`` list Aymara first, so its "English" side is Aymara and its target side
English, and the seven AmericasNLP targets' files put Spanish on the line labelled with the target.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from harness.data import releases
from harness.data.source import DataError, DataSource

logger = logging.getLogger(__name__)

SERVES = "parallel sentences"
REPOSITORY = "https://github.com/TokisakiKurumi2001/UniBridge"
MIRROR = "https://github.com/VinAIResearch/UniBridge"
"""The official release of the authors' code: the same ``xlm/alignment/`` files, blob for blob."""
ENGLISH = "eng"
AUTHOR_CODES = {
    "eng": "eng_Latn", "rus": "rus_Cyrl", "jpn": "jpn_Jpan", "zho": "zho_Hant", "ara": "arb_Arab",
    "spa": "spa_Latn", "amh": "amh_Ethi", "ang": "ang_Latn", "aym": "aym_Latn", "bzd": "bzd_Latn",
    "cdo": "cdo_Latn", "cni": "cni_Latn", "crh": "crh_Latn", "eml": "eml_Latn", "frr": "frr_Latn",
    "grn": "grn_Latn", "hch": "hch_Latn", "khm": "khm_Khmr", "kan": "kan_Knda", "lij": "lij_Latn",
    "nah": "nah_Latn", "olo": "olo_Latn", "oto": "oto_Latn", "pbt": "pbt_Arab", "quy": "quy_Latn",
    "san": "san_Deva", "snd": "snd_Arab", "shp": "shp_Latn", "sin": "sin_Sinh", "som": "som_Latn",
    "tam": "tam_Taml", "tar": "tar_Latn", "tgl": "tgl_Latn", "tat": "tat_Cyrl",
}
"""Canonical code → the authors' file code (``weight.py``'s ``flores_mapping``)."""
_PREFIX = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}: ")
"""``<code>: ``, the shape of ``len("eng_Latn: ")`` that ``weight.py`` cuts off each line."""
_UNREACHABLE: dict[tuple[str, str], DataError] = {}
"""(remote base, data cache) → its first failure in this process: ``validate`` then says it once
for all pairs instead of once per file."""


def relative_path(source: DataSource, target: str, lang: str) -> str:
    """The pinned file of the (target, lang) pair, or a DataError naming the pairs the release has."""
    release, version, pin = releases.pinned(source, SERVES)
    wanted = f"{AUTHOR_CODES.get(target, target)}-{AUTHOR_CODES.get(lang, lang)}.txt"
    for relative in pin.checksums:
        if Path(relative).name == wanted:
            return relative
    held = sorted(_canonical(Path(r).stem.split("-")[1]) for r in pin.checksums
                  if Path(r).stem.split("-")[0] == AUTHOR_CODES.get(target))
    have = f"for {target}: sources {', '.join(held)}" if held else f"no target {target!r}"
    raise DataError(f"the UniBridge authors' alignment files (release {release.name!r} {version[:7]}) "
                    f"have no pair {target}-{lang} (file {wanted}); they hold {have}. Serve this "
                    f"pair from another `parallel:` entry (formats flores_plus, opus, folder, pairs)")


def pair_files(source: DataSource, target: str, lang: str) -> tuple[Path, Path]:
    """(the target–English file, the (target, lang) file), fetched once into the data cache."""
    return _fetch(source, target, ENGLISH), _fetch(source, target, lang)


def load(source: DataSource, target: str, lang: str) -> list[tuple[str, str]]:
    """(target sentence, source sentence) pairs as ``weight.py`` reads them (module docstring)."""
    english_file, pair_file = pair_files(source, target, lang)
    targets, sources = read_side(english_file, "target"), read_side(pair_file, "source")
    if len(targets) != len(sources):
        raise DataError(f"{english_file} has {len(targets)} target sentences but {pair_file} has "
                        f"{len(sources)} source sentences; weight.py pairs them line by line")
    return list(zip(targets, sources))


def read_side(path: Path, side: Literal["source", "target"]) -> list[str]:
    """The ``source`` (first line of each block) or ``target`` (second) sentences of ``path``.

    As ``weight.py``'s ``load_data``: empty lines skipped, position decides the side, the
    ``<code>: `` prefix cut; a line without that prefix, or an odd line count, is a DataError.
    """
    lines = [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1)
             if line]
    bad = [f"line {n}" for n, line in lines if not _PREFIX.match(line)]
    if bad or len(lines) % 2:
        problem = f"no '<code>: ' prefix on {', '.join(bad[:3])}" if bad else "an odd line count"
        raise DataError(f"{path}: {problem}; expected blocks of two '<code>: sentence' lines")
    first = 0 if side == "source" else 1
    return [line[len("eng_Latn: "):] for i, (_, line) in enumerate(lines) if i % 2 == first]


def fingerprint(source: DataSource, target: str, lang: str) -> str:
    """The release, its version and the pinned SHA-256 of the pair's two files (no download)."""
    release, version, pin = releases.pinned(source, SERVES)
    files = dict.fromkeys(relative_path(source, target, other) for other in (ENGLISH, lang))
    return f"release:{release.name}@{version}:" + ",".join(pin.checksums[f] for f in files)


def _fetch(source: DataSource, target: str, lang: str) -> Path:
    relative = relative_path(source, target, lang)
    base = source.url or releases.pinned(source, SERVES)[2].url
    key = (base, str(releases.cache_dir()))
    if key in _UNREACHABLE:
        raise _UNREACHABLE[key]
    try:
        return releases.fetch_file(source, SERVES, relative)
    except DataError as error:
        failure = DataError(f"the UniBridge authors' alignment files: {error}; a clone of "
                            f"{REPOSITORY} checked out at that commit (or of {MIRROR}) serves as "
                            f"`url:` too")
        if "://" in base:  # the same host serves every file: one failure stands for all
            failure = DataError(f"{failure} (no other file of the release is tried after one "
                                f"failure)")
            _UNREACHABLE[key] = failure
        raise failure from None


def _canonical(author_code: str) -> str:
    return next((lang for lang, code in AUTHOR_CODES.items() if code == author_code), author_code)
