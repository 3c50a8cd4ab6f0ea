"""Canonical language codes used everywhere inside the harness.

Example::

    from harness.languages import get_language
    get_language("amh").script   # 'Ethiopic'

Choice: the canonical code is ISO 639-3, the code of the paper's table columns (``amh``,
``khm``, ``pbt`` …). A dataset's own code (WikiANN ``am``, UD treebank ``am_att``) lives in that
dataset's module in :mod:`harness.data`, never here.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.registry import UnknownNameError


@dataclass(frozen=True)
class Language:
    """A language: canonical ISO 639-3 code, English name, main script, ISO 639-1 code if any."""

    code: str
    name: str
    script: str
    iso1: str | None = None


_LANGUAGES = [
    # sources
    Language("eng", "English", "Latin", "en"),
    Language("zho", "Chinese", "Han", "zh"),
    Language("rus", "Russian", "Cyrillic", "ru"),
    Language("ara", "Arabic", "Arabic", "ar"),
    Language("jpn", "Japanese", "Japanese", "ja"),
    # WikiANN targets (Tables 1-2)
    Language("amh", "Amharic", "Ethiopic", "am"),
    Language("ang", "Old English", "Latin"),
    Language("cdo", "Min Dong", "Latin"),
    Language("crh", "Crimean Tatar", "Latin"),
    Language("eml", "Emilian-Romagnol", "Latin"),
    Language("frr", "North Frisian", "Latin"),
    Language("khm", "Khmer", "Khmer", "km"),
    Language("kan", "Kannada", "Kannada", "kn"),
    Language("lij", "Ligurian", "Latin"),
    Language("pbt", "Southern Pashto", "Arabic", "ps"),
    Language("san", "Sanskrit", "Devanagari", "sa"),
    Language("snd", "Sindhi", "Arabic", "sd"),
    Language("sin", "Sinhala", "Sinhala", "si"),
    Language("som", "Somali", "Latin", "so"),
    # UD targets (Tables 3-4) not listed above
    Language("olo", "Livvi", "Latin"),
    Language("tam", "Tamil", "Tamil", "ta"),
    Language("tgl", "Tagalog", "Latin", "tl"),
    Language("tat", "Tatar", "Cyrillic", "tt"),
    # AmericasNLI targets (Tables 12-13)
    Language("aym", "Aymara", "Latin", "ay"),
    Language("bzd", "Bribri", "Latin"),
    Language("cni", "Asháninka", "Latin"),
    Language("grn", "Guarani", "Latin", "gn"),
    Language("hch", "Wixarika", "Latin"),
    Language("nah", "Nahuatl", "Latin"),
    Language("oto", "Otomí", "Latin"),
    Language("quy", "Quechua", "Latin", "qu"),
    Language("shp", "Shipibo-Konibo", "Latin"),
    Language("tar", "Rarámuri", "Latin"),
]

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _LANGUAGES}
SOURCE_LANGUAGES = ("eng", "zho", "rus", "ara", "jpn")


def get_language(code: str) -> Language:
    """The language with canonical ``code``; unknown codes raise :class:`UnknownNameError`."""
    if code not in LANGUAGES:
        raise UnknownNameError("language", code, sorted(LANGUAGES))
    return LANGUAGES[code]
