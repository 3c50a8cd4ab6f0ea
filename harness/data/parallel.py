"""Multi-way parallel sentences for the harmony weights (PAPER.md stage 5, Eqs. 10–13).

Example::

    from harness.data import parallel
    pairs = parallel.load(DataSource(path="fixtures/parallel"), "amh", "eng")
    target_sentence, source_sentence = pairs[0]

Local form (FLORES style): ``<path>/<lang>.txt`` for every language (canonical ISO 639-3 code),
UTF-8, where line *i* of every file translates the same sentence. An empty line marks a
sentence missing in that language; pairs where either side is empty are skipped. Files of one
folder must have the same number of lines.

Hub form: FLORES+ (``openlanguagedata/flores_plus``), ``datasets.load_dataset(hub,
<code>_<Script>, split="dev", revision=revision)``, field ``text``, rows aligned by their ``id``.
The canonical → FLORES+ mapping is :data:`FLORES_CODES`; FLORES+ names Chinese ``cmn_Hans``,
Arabic ``arb_Arab`` (Modern Standard) and Aymara ``ayr_Latn`` (Central Aymara). Languages
outside FLORES+ need a local folder.
"""

from __future__ import annotations

from harness.data._local import language_file, load_hub, mapped_code, read_lines
from harness.data.source import DataError, DataSource

FLORES_SPLIT = "dev"
FLORES_CODES = {
    "eng": "eng_Latn", "zho": "cmn_Hans", "rus": "rus_Cyrl", "ara": "arb_Arab", "jpn": "jpn_Jpan",
    "amh": "amh_Ethi", "crh": "crh_Latn", "khm": "khm_Khmr", "kan": "kan_Knda", "lij": "lij_Latn",
    "pbt": "pbt_Arab", "san": "san_Deva", "snd": "snd_Arab", "sin": "sin_Sinh", "som": "som_Latn",
    "tam": "tam_Taml", "tgl": "tgl_Latn", "tat": "tat_Cyrl", "aym": "ayr_Latn", "grn": "grn_Latn",
    "quy": "quy_Latn",
}
DATASET = "FLORES+ (give a local parallel folder for the others)"


def load(source: DataSource, target: str, source_lang: str) -> list[tuple[str, str]]:
    """(target sentence, source sentence) pairs in line order, skipping empty sides."""
    if source.is_local:
        target_lines, source_lines = _local_lines(source, target, source_lang)
    else:
        target_lines = _flores_lines(source, target)
        source_lines = _flores_lines(source, source_lang)
    return [(t.strip(), s.strip()) for t, s in zip(target_lines, source_lines)
            if t.strip() and s.strip()]


def check(source: DataSource, target: str, source_lang: str) -> None:
    """Raise a DataError unless both languages exist and (locally) have aligned files."""
    if source.is_local:
        _local_lines(source, target, source_lang)
        return
    for lang in (target, source_lang):
        mapped_code(lang, FLORES_CODES, DATASET)


def _local_lines(source: DataSource, target: str, source_lang: str) -> tuple[list[str], list[str]]:
    target_path = language_file(source, target)
    source_path = language_file(source, source_lang)
    target_lines, source_lines = read_lines(target_path), read_lines(source_path)
    if len(target_lines) != len(source_lines):
        raise DataError(f"{target_path} has {len(target_lines)} lines but {source_path} has "
                        f"{len(source_lines)}; parallel files must align line by line")
    return target_lines, source_lines


def _flores_lines(source: DataSource, lang: str) -> list[str]:
    rows = load_hub(source, mapped_code(lang, FLORES_CODES, DATASET), FLORES_SPLIT)
    return [row["text"] for row in sorted(rows, key=lambda row: row["id"])]


