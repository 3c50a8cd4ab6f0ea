"""OPUS sentence pairs in Moses form, read from a local folder (the download is the user's).

Example::

    target_file, source_file = pair_files(Path("data/opus"), "Tatoeba", "frr", "eng", {})
    # data/opus/Tatoeba.en-frr.frr, data/opus/Tatoeba.en-frr.en

Layout: OPUS publishes each corpus and language pair as ``<corpus>.<l1>-<l2>.txt.zip`` ("moses"
preprocessing) holding ``<corpus>.<l1>-<l2>.<l1>`` and ``<corpus>.<l1>-<l2>.<l2>``, line *i* of
one translating line *i* of the other; OPUS orders the two codes alphabetically. Unzip those
files into one folder. Fetch them with opustools (``pip install opustools``)::

    opus_get --directory Tatoeba --source en --target frr --preprocess moses

Choice: no download client here. opustools' reader works on the XML release (much larger) and
downloads after a prompt; mtdata caches whole corpora with its own dependencies; neither reads the
Moses files more simply than the few lines below. ``opus_get`` saves
``<corpus>_latest_moses_<l1>-<l2>.txt.zip``; unzip it into the folder. OPUS names a language by
its ISO 639-1 code where one exists, else by a three-letter code (:func:`opus_code`); a corpus
with its own choice (GlobalVoices ``aym`` where CCAligned has ``ay``) is named in the suite's ``codes:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.core.languages import get_language
from harness.data.source import DataError

DOWNLOAD_HINT = ("fetch it with opustools (`pip install opustools`; `opus_get --directory CORPUS "
                 "--source L1 --target L2 --preprocess moses`) and unzip the .txt.zip into that folder")


def opus_code(lang: str, codes: Mapping[str, str]) -> str:
    """OPUS's code of canonical ``lang``: ``codes``' entry, else ISO 639-1, else ISO 639-3."""
    return codes.get(lang) or get_language(lang).iso1 or lang


def pair_files(root: Path, corpus: str, target: str, source: str,
               codes: Mapping[str, str]) -> tuple[Path, Path]:
    """(target file, source file) of ``corpus`` in ``root``, or a DataError saying how to get them."""
    target_code, source_code = opus_code(target, codes), opus_code(source, codes)
    for first, second in ((target_code, source_code), (source_code, target_code)):
        stem = root / f"{corpus}.{first}-{second}"
        target_file, source_file = Path(f"{stem}.{target_code}"), Path(f"{stem}.{source_code}")
        if target_file.is_file() and source_file.is_file():
            return target_file, source_file
    first, second = sorted((target_code, source_code))
    present = sorted({p.name.rsplit(".", 1)[0] for p in root.glob(f"{corpus}.*-*.*")})
    raise DataError(
        f"no OPUS {corpus} files for the pair {target}-{source} in {root}: expected "
        f"{corpus}.{first}-{second}.{first} and {corpus}.{first}-{second}.{second} (OPUS codes "
        f"{target_code!r}, {source_code!r}; another code: 'codes: {{{target}: CODE}}'); "
        f"{corpus} pairs there: {', '.join(present) or 'none'}. To get them, {DOWNLOAD_HINT}")
