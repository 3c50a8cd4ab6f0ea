"""Build the small fixture datasets under ``fixtures/`` from this machine's gettext catalogues.

Usage::

    python3 scripts/extract_fixtures.py                     # rewrites fixtures/{wikiann,ud,...}
    python3 scripts/extract_fixtures.py --out /tmp/fx --locale-dir /usr/share/locale

The text is real: the translated messages of ``/usr/share/locale/<lc>/LC_MESSAGES/*.mo``
(msgid = English, msgstr = translation), which makes genuinely multi-way parallel lines. The
labels are synthetic (rules over hashes of the words, below): they only exercise the pipeline.
Aymara and Guarani have no usable catalogue here (``ay`` is empty, ``gn`` copies the English
country names), so ``aym`` and ``grn`` are stand-ins: the English text through a fixed letter
substitution per language. See ``fixtures/README.md``.

Deterministic: every choice is ordered by SHA-256 of the text, so re-running it on the same
catalogues writes the same bytes.
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import logging
import random
import re
import shutil
import string
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout
from harness.data.examples import NLI_LABELS, UPOS_LABELS  # noqa: E402

logger = logging.getLogger("extract_fixtures")

LOCALES = {"eng": None, "zho": "zh_CN", "rus": "ru", "ara": "ar", "jpn": "ja", "amh": "am",
           "tgl": "tl"}
STAND_INS = ("aym", "grn")
SOURCES = ("eng", "zho", "rus", "ara", "jpn")
TASK_LANGUAGES = {
    "wikiann": (*SOURCES, "amh", "tgl"),
    "ud": (*SOURCES, "amh", "tgl"),
    "nli": (*SOURCES, "aym", "grn"),
}
UNSPACED = {"zho", "jpn"}
SPLIT_SIZES = {"train": 48, "validation": 16, "test": 16}
MIN_WORDS = {"amh": 2}  # the Amharic catalogues are short (names of countries and languages)
DEFAULT_MIN_WORDS = 3
MONOLINGUAL_LINES = 300
PARALLEL_LINES = 32
PARALLEL_MIN_WORDS = 2
OPEN_TAGS = tuple(t for t in UPOS_LABELS if t not in {"PUNCT", "SYM", "NUM", "X"})
ENTITY_TYPES = ("PER", "ORG", "LOC")
_EMPTY_BRACKETS = re.compile("[\"'`“‘«「『(\\[]\\s*[\"'”’»」』)\\]]")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def digest(text: str) -> int:
    """A stable 32-bit hash (Python's ``hash`` changes between runs)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def clean(text: str) -> str:
    """A message without accelerators, format specifiers, markup or line breaks."""
    text = re.sub(r"\((?:_|&)\w\)", "", text)                  # Japanese/Chinese "(_F)"
    text = re.sub(r"<[^>]*>", " ", text)                          # markup
    text = re.sub(r"%(?:\d+\$|\([\w-]+\))?[-+ #0']*\d*(?:\.\d+)?[hlqjztL]*[a-zA-Z%]", " ", text)
    text = re.sub(r"\{[^}]*\}|\$\{?\w+\}?", " ", text)          # {0}, ${name}
    text = re.sub(r"[_&](?=\w)", "", text)                        # "_File", "&Open"
    text = " ".join(text.replace("\\n", " ").replace("\\t", " ").split())
    text = " ".join(_EMPTY_BRACKETS.sub(" ", text).split())  # brackets around a removed "%s"
    text = re.sub(r"(?:\s*[,，:：;])+\s*(?=[.。]|$)|^[\s,:]+", "", text)  # its dangling commas
    return text if any(c.isalpha() for c in text) else ""


def read_catalogues(locale_dir: Path, lc: str) -> dict[str, str]:
    """English msgid → translation over every catalogue of ``lc`` (first one wins)."""
    messages: dict[str, str] = {}
    for path in sorted((locale_dir / lc / "LC_MESSAGES").glob("*.mo")):
        try:
            with open(path, "rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog
        except (OSError, UnicodeDecodeError) as error:
            logger.warning("skipping %s: %s", path, error)
            continue
        for key, value in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if isinstance(key, tuple) and key[1] != 0:
                continue
            msgid = msgid.split("\x04")[-1]
            if msgid and value and value != msgid:
                messages.setdefault(msgid, value)
    return messages


def substitution(lang: str) -> Callable[[str], str]:
    """A fixed letter permutation that turns English text into a stand-in for ``lang``."""
    letters = list(string.ascii_lowercase)
    random.Random(f"stand-in-{lang}").shuffle(letters)
    table = str.maketrans(string.ascii_lowercase + string.ascii_uppercase,
                          "".join(letters) + "".join(letters).upper())
    return lambda text: text.translate(table)


def build_texts(locale_dir: Path) -> dict[str, dict[str, str]]:
    """Per language: English msgid → cleaned text (English and stand-ins included)."""
    translated = {lang: read_catalogues(locale_dir, lc) for lang, lc in LOCALES.items() if lc}
    english_ids = sorted({m for lang in SOURCES[1:] for m in translated[lang]})
    texts = {"eng": {m: clean(m) for m in english_ids}}
    texts.update({lang: {m: clean(t) for m, t in messages.items()}
                  for lang, messages in translated.items()})
    for lang in STAND_INS:
        convert = substitution(lang)
        texts[lang] = {m: convert(t) for m, t in texts["eng"].items()}
    return {lang: {m: t for m, t in by_id.items() if t} for lang, by_id in texts.items()}


def units(text: str, lang: str) -> list[str]:
    """Words of ``text``: whitespace words, or characters for Chinese and Japanese."""
    return [c for c in text if not c.isspace()] if lang in UNSPACED else text.split()


def join_units(parts: list[str], lang: str) -> str:
    """Inverse of :func:`units`."""
    return ("" if lang in UNSPACED else " ").join(parts)


def by_hash(texts: set[str], lang: str) -> list[str]:
    """``texts`` in a fixed pseudo-random order."""
    return sorted(texts, key=lambda text: (digest(f"{lang}:{text}"), text))


def sentences(texts: dict[str, str], lang: str, count: int) -> list[str]:
    """``count`` distinct texts of at least the language's minimum number of words."""
    minimum = MIN_WORDS.get(lang, DEFAULT_MIN_WORDS)
    pool = {t for t in texts.values() if len(units(t, lang)) >= minimum}
    chosen = by_hash(pool, lang)[:count]
    if len(chosen) < count:
        raise SystemExit(f"{lang}: only {len(chosen)} sentences of {minimum}+ words, need {count}")
    return chosen


def tokenize(text: str) -> list[str]:
    """Tokens for tagging: Han/Kana characters and punctuation alone, other runs together."""
    tokens: list[str] = []
    for chunk in text.split():
        current = ""
        for char in chunk:
            if _CJK.match(char) or unicodedata.category(char)[0] in "PS":
                tokens += [current, char] if current else [char]
                current = ""
            else:
                current += char
        if current:
            tokens.append(current)
    return tokens


def upos(token: str) -> str:
    """Synthetic UPOS: punctuation and symbols by category, digits NUM, the rest by hash."""
    category = unicodedata.category(token[0])
    if len(token) == 1 and category[0] in "PS":
        return "PUNCT" if category[0] == "P" else "SYM"
    if token.isdigit():
        return "NUM"
    return OPEN_TAGS[digest(token.lower()) % len(OPEN_TAGS)]


def ner_tags(tokens: list[str]) -> list[str]:
    """Synthetic BIO tags, one per token.

    Capitalised non-initial words (or, in scripts without case, 1 word in 4 by hash) are
    entities; a run of them is one entity whose type comes from a hash.
    """
    inside = [_is_entity(token, i) for i, token in enumerate(tokens)]
    tags = []
    for i, token in enumerate(tokens):
        if not inside[i]:
            tags.append("O")
        elif i > 0 and inside[i - 1]:
            tags.append("I-" + tags[-1][2:])
        else:
            tags.append("B-" + ENTITY_TYPES[digest(token) % len(ENTITY_TYPES)])
    return tags


def _is_entity(token: str, position: int) -> bool:
    if not any(c.isalnum() for c in token):
        return False
    if token.lower() != token.upper():
        return position > 0 and token[0].isupper()
    return digest(token) % 4 == 0


def nli_pair(premises: list[str], index: int, lang: str) -> tuple[str, str, str]:
    """Synthetic pair number ``index``, cycling over the three labels.

    The hypothesis is the premise's first two thirds (entailment), another sentence (neutral)
    or the premise's words in reverse order (contradiction).
    """
    premise = premises[index]
    words = units(premise, lang)
    label = NLI_LABELS[index % len(NLI_LABELS)]
    if label == "entailment":
        hypothesis = join_units(words[:max(1, (2 * len(words) + 2) // 3)], lang)
    elif label == "neutral":
        hypothesis = premises[(index + 1) % len(premises)]
    else:
        hypothesis = join_units(words[::-1], lang)
    return premise, hypothesis, label


def split_up(items: list) -> dict[str, list]:
    """The first 48 items as train, then 16 validation, then 16 test."""
    splits, start = {}, 0
    for split, size in SPLIT_SIZES.items():
        splits[split] = items[start:start + size]
        start += size
    return splits


def write(path: Path, lines: list[str]) -> None:
    """UTF-8 text with Unix line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(line + "\n" for line in lines))


def write_wikiann(out: Path, lang: str, texts: list[str]) -> None:
    """``wikiann/<lang>/<split>.tsv``: token<TAB>tag, blank line between sentences."""
    for split, chunk in split_up(texts).items():
        lines = []
        for text in chunk:
            tokens = tokenize(text)
            lines += [f"{t}\t{tag}" for t, tag in zip(tokens, ner_tags(tokens))] + [""]
        write(out / "wikiann" / lang / f"{split}.tsv", lines)


def write_ud(out: Path, lang: str, texts: list[str]) -> None:
    """``ud/<lang>/<split>.conllu``: flat trees (token 1 is the root, the rest depend on it)."""
    for split, chunk in split_up(texts).items():
        lines = []
        for number, text in enumerate(chunk, start=1):
            tokens = tokenize(text)
            lines += [f"# sent_id = {lang}-{split}-{number}", f"# text = {' '.join(tokens)}"]
            for i, token in enumerate(tokens, start=1):
                head, deprel = (0, "root") if i == 1 else (1, "dep")
                lines.append(f"{i}\t{token}\t{token.lower()}\t{upos(token)}\t_\t_\t{head}\t{deprel}\t_\t_")
            lines.append("")
        write(out / "ud" / lang / f"{split}.conllu", lines)


def write_nli(out: Path, lang: str, texts: list[str]) -> None:
    """``nli/<lang>/<split>.tsv`` with a premise/hypothesis/label header."""
    for split, chunk in split_up(texts).items():
        rows = ["\t".join(nli_pair(chunk, i, lang)) for i in range(len(chunk))]
        write(out / "nli" / lang / f"{split}.tsv", ["premise\thypothesis\tlabel", *rows])


def write_parallel(out: Path, texts: dict[str, dict[str, str]]) -> None:
    """``parallel/<lang>.txt``, line-aligned, FLORES style.

    Every line is translated into every source and stand-in. Amharic and Tagalog share few
    messages, so each gets its own lines and an empty line where it has no translation (the
    loader skips those pairs).
    """
    everywhere = set.intersection(*(set(texts[lang]) for lang in (*SOURCES, *STAND_INS)))
    everywhere = {m for m in everywhere if len(texts["eng"][m].split()) >= PARALLEL_MIN_WORDS}
    ids: set[str] = set()
    for lang in sorted(set(texts) - {*SOURCES, *STAND_INS}):
        ids.update(by_hash(everywhere & set(texts[lang]), lang)[:PARALLEL_LINES])
    ordered = by_hash(ids, "parallel")
    for lang, by_id in texts.items():
        write(out / "parallel" / f"{lang}.txt", [by_id.get(m, "") for m in ordered])
    logger.info("parallel: %d lines in %d languages", len(ordered), len(texts))


def main() -> None:
    """Regenerate every fixture dataset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures")
    parser.add_argument("--locale-dir", type=Path, default=Path("/usr/share/locale"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    texts = build_texts(args.locale_dir)
    for folder in ("wikiann", "ud", "nli", "monolingual", "parallel"):
        shutil.rmtree(args.out / folder, ignore_errors=True)
    writers = {"wikiann": write_wikiann, "ud": write_ud, "nli": write_nli}
    count = sum(SPLIT_SIZES.values())
    for task, langs in TASK_LANGUAGES.items():
        for lang in langs:
            writers[task](args.out, lang, sentences(texts[lang], lang, count))
    for lang, by_id in texts.items():
        lines = by_hash(set(by_id.values()), lang)[:MONOLINGUAL_LINES]
        write(args.out / "monolingual" / f"{lang}.txt", lines)
    write_parallel(args.out, texts)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    logger.info("fixtures written to %s (%.0f KB)", args.out, size / 1024)


if __name__ == "__main__":
    main()
