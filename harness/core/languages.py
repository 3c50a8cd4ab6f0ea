"""Canonical language codes used everywhere inside the harness.

Example::

    from harness.core.languages import canonical_code, get_language
    canonical_code("am")           # 'amh' (two-letter ISO 639-1 codes map to ISO 639-3)
    canonical_code("tur")          # 'tur': any ISO 639-3 code is accepted
    get_language("amh").script     # 'Ethiopic' (paper metadata)

Choice: the canonical code is ISO 639-3, the code of the paper's table columns (``amh``,
``khm``, ``pbt`` …), checked against the ISO 639 code table shipped by the pinned
``iso639-lang`` package (pure Python, its data inside the wheel: no network). Accepted input: an
ISO 639-3 code, a two-letter ISO 639-1 code or a bibliographic ISO 639-2/B code (both mapped to
639-3), or an ISO 639-5 collective code for the paper's two languages that have no individual
code (``nah`` Nahuatl, ``oto`` Otomí). A dataset's own code (WikiANN ``am``, FLORES+
``amh_Ethi``, UD treebank ``am_att``) lives in that dataset's module in :mod:`harness.data`,
never here; that module says when its dataset lacks a language and what to use instead.
:data:`LANGUAGES` keeps the paper's languages with their scripts, which the data modules use.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

#: Where the full code table can be browsed (named in error messages).
CODE_TABLE_URL = "https://iso639-3.sil.org/code_tables/639/data"
_CODE_SHAPE = re.compile(r"[a-z]{2,3}")
#: ISO 639 special codes (uncoded, multiple, undetermined, no linguistic content): no language.
_SPECIAL = frozenset({"mis", "mul", "und", "zxx"})


class UnknownLanguageError(ValueError):
    """A language code that is not in the ISO 639 table; the message says what to use."""


@dataclass(frozen=True)
class Language:
    """A language: canonical ISO 639-3 code, English name, main script, ISO 639-1 code if any.

    ``script`` is known for the paper's languages only (None for the others).
    """

    code: str
    name: str
    script: str | None
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


def canonical_code(code: str) -> str:
    """The ISO 639-3 code of ``code``; anything that is not an ISO 639 code raises.

    Raises:
        UnknownLanguageError: with the code, why it is refused and what to use instead.
    """
    if code in LANGUAGES:
        return code
    lowered = str(code).strip().lower()
    record = _lookup(lowered) if _CODE_SHAPE.fullmatch(lowered) else None
    if record is None or record.pt3 in _SPECIAL:
        raise UnknownLanguageError(_unknown_message(code))
    return record.pt3 or record.pt5


def get_language(code: str) -> Language:
    """The language of ``code`` (any accepted form): paper metadata, else the ISO table's name."""
    canonical = canonical_code(code)
    if canonical in LANGUAGES:
        return LANGUAGES[canonical]
    record = _lookup(canonical)
    return Language(canonical, record.name, None, record.pt1 or None)


@lru_cache(maxsize=4096)
def _lookup(code: str):
    """The iso639 record whose code (not name) is ``code``, or None; deprecated codes raise."""
    from iso639 import Lang
    from iso639.exceptions import DeprecatedLanguageValue, InvalidLanguageValue

    try:
        record = Lang(code)
    except InvalidLanguageValue:
        return None
    except DeprecatedLanguageValue as error:
        raise UnknownLanguageError(
            f"language code {code!r} ({error.name}) is deprecated in ISO 639; use "
            f"{canonical_code(error.change_to)!r} instead" if error.change_to else
            f"language code {code!r} ({error.name}) is deprecated in ISO 639: {error.msg}") from None
    is_code = code in (record.pt1, record.pt2b, record.pt3) or (code == record.pt5 and not record.pt3)
    return record if is_code else None


def _unknown_message(code: str) -> str:
    close = difflib.get_close_matches(str(code).lower(), sorted(LANGUAGES), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (f"unknown language {code!r}: not an ISO 639-3 code (nor a two-letter ISO 639-1 "
            f"one).{hint} Use the three-letter code from the ISO 639-3 table ({CODE_TABLE_URL}), "
            f"e.g. 'tur' for Turkish; the paper's languages: {', '.join(sorted(LANGUAGES))}")
