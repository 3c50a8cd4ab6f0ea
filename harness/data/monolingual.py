"""Monolingual text, cut into fixed-length samples (PAPER.md: 10K × 128 words per target).

Example::

    from harness.data import monolingual
    samples = monolingual.load(DataSource(path="fixtures/monolingual"), "amh",
                               n_samples=100, words_per_sample=128, seed=0)

Local form: ``<path>/<lang>.txt`` (canonical ISO 639-3 ``lang``), UTF-8, one document or
paragraph per line. Hub form: Wikipedia, ``datasets.load_dataset(hub, "20231101.<wiki code>",
split="train", streaming=True, revision=revision)`` (e.g. ``wikimedia/wikipedia``), field
``text``; documents are read in dump order until there are ``HUB_OVERSAMPLE`` times the words
needed, and the sample is drawn from those.

Release form (``release: americasnlp2021``, :mod:`harness.data.releases`): for the AmericasNLI
languages, "one side of the AmericasNLP 2021 translation data" (the paper): the
indigenous-language side of the shared task's training data, ``data/<pair folder>/train.<code>``
of the ``AmericasNLP/americasnlp2021`` repository at a pinned commit, one sentence per line.
The folders and file codes (:data:`AMERICASNLP_FILES`) are the repository's own: Guarani is
``gn``, Otomí's folder is ``hñähñu-spanish``, Quechua's ``train.quy`` is the JW300 side.
Rarámuri reads ``train_nontok.tar``, the untokenized version of its training side that the
organisers added on 2021-03-08, not the tokenized ``train.tar`` (punctuation split off by
spaces): every other target's file, the AmericasNLI sentences the adapted model is evaluated
on and the Wikipedia text of the other suites are untokenized text, and the authors' code
does not say which file they used (it reads text prepared beforehand; docs/data.md). Sources
(English, …) are not in it: a suite gives this form as ``monolingual.target_data`` and keeps
Wikipedia as ``monolingual.data``.

Choices where the paper is silent:

- The text (each line with its whitespace collapsed, lines joined by a space) is cut into
  consecutive samples of ``words_per_sample`` words; the last, shorter sample is kept.
- A word is a run of non-space characters, except that every Han, Hiragana or Katakana
  character counts as one word, so Chinese and Japanese (written without spaces) get samples of
  ``words_per_sample`` characters; samples keep the original text (no spaces are added).
- ``n_samples`` samples are drawn without replacement by ``random.Random(seed)`` and returned in
  text order; with fewer samples than asked, all are returned. ``validate`` counts the words of
  local and release text (:func:`check`) and names the shortfalls before anything runs, one line
  per role (:func:`shortfall`); a run's corpus stage counts the samples it cut (Wikipedia's
  included, whose text validate does not read) and keeps its shortfall in its artifact, so the
  run's summary line names it whether the stage built now or was cached (harness/core/shortfalls.py).
  Both count with :func:`samples_in` ≡ :func:`cut_samples` and word it with
  :func:`samples_shortfall`: validate's note and the run's line name the same counts.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from harness.data import releases
from harness.data._local import WIKIPEDIA_CODES, language_file, load_hub, mapped_code, read_lines
from harness.data.problems import Problems, collecting, read_numbered
from harness.data.source import DataError, DataSource

AMERICASNLP = "AmericasNLP 2021 training data"
AMERICASNLP_FILES: dict[str, str] = {
    "aym": "data/aymara-spanish/train.aym", "bzd": "data/bribri-spanish/train.bzd",
    "cni": "data/ashaninka-spanish/train.cni", "grn": "data/guarani-spanish/train.gn",
    "hch": "data/wixarika-spanish/train.hch", "nah": "data/nahuatl-spanish/train.nah",
    "oto": "data/hñähñu-spanish/train.oto", "quy": "data/quechua-spanish/train.quy",
    "shp": "data/shipibo_konibo-spanish/train.shp", "tar": "data/raramuri-spanish/train_nontok.tar",
}
"""Canonical code → the language side of its AmericasNLP 2021 training pair (repository path)."""

WIKIPEDIA_DUMP = "20231101"
HUB_OVERSAMPLE = 2
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
WORD = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
"""One word: a Han/Kana character, or a run of other non-space characters."""


def load(source: DataSource, lang: str, n_samples: int, words_per_sample: int,
         seed: int) -> list[str]:
    """Up to ``n_samples`` samples of ``words_per_sample`` words of ``lang``, chosen by ``seed``."""
    if source.is_local:
        documents: Iterable[str] = read_lines(language_file(source, lang))
    elif source.release is not None:
        documents = read_lines(_release_file(source, lang))
    else:
        documents = _wikipedia(source, lang, HUB_OVERSAMPLE * n_samples * words_per_sample)
    samples = cut_samples(documents, words_per_sample)
    return choose_samples(samples, n_samples, seed)


def check(source: DataSource, lang: str, problems: Problems | None = None) -> int | None:
    """Raise a DataError unless text of ``lang`` is available; return how many words it has.

    Local and release files are read line by line: a file that is not UTF-8 or holds no word
    goes to ``problems`` (without one, a DataError lists them). Hub: names only (returns None).
    """
    if source.is_local:
        path = language_file(source, lang)
    elif source.release is not None:
        path = _release_file(source, lang)
    else:
        mapped_code(lang, WIKIPEDIA_CODES, "Wikipedia (give local text files for the others)")
        return None
    texts = words = 0
    with collecting(problems) as found:
        for _, line in read_numbered(path, found):
            count = len(WORD.findall(line))
            texts, words = texts + (count > 0), words + count
        found.require(path, texts, f"text for {lang!r} (a corpus must not be empty)")
    return words


def samples_in(words: int, words_per_sample: int) -> int:
    """How many samples :func:`cut_samples` makes of ``words`` words: ⌈words / words_per_sample⌉."""
    return -(-words // words_per_sample)


def shortfall(what: str, words: Mapping[str, int | None], n_samples: int, words_per_sample: int,
              setting: str) -> str | None:
    """:func:`samples_shortfall` of the samples that :func:`check`'s word counts make."""
    samples = {lang: None if count is None else samples_in(count, words_per_sample)
               for lang, count in words.items()}
    return samples_shortfall(what, samples, n_samples, words_per_sample, setting)


def samples_shortfall(what: str, samples: Mapping[str, int | None], n_samples: int,
                      words_per_sample: int, setting: str = "") -> str | None:
    """One line naming every language with fewer than ``n_samples`` ``samples`` (None: not counted).

    ``what`` opens the line (``"monolingual.data: source text"``); ``setting`` names the suite key
    that asked for ``n_samples``.
    """
    short = {lang: count for lang, count in sorted(samples.items())
             if count is not None and count < n_samples}
    if not short:
        return None
    listed = ", ".join(f"{lang} {count}" for lang, count in short.items())
    asked = f"the {n_samples} asked for" + (f" ({setting})" if setting else "")
    return (f"{what} of {len(short)} language(s) gives fewer samples of {words_per_sample} words "
            f"than {asked}: {listed}; a run uses what there is")


def cut_samples(documents: Iterable[str], words_per_sample: int) -> list[str]:
    """The documents joined by spaces and cut into consecutive ``words_per_sample``-word pieces."""
    text = " ".join(" ".join(doc.split()) for doc in documents if doc.strip())
    spans = [match.span() for match in WORD.finditer(text)]
    return [text[spans[i][0]:spans[min(i + words_per_sample, len(spans)) - 1][1]]
            for i in range(0, len(spans), words_per_sample)]


def choose_samples(samples: list[str], n_samples: int, seed: int) -> list[str]:
    """``n_samples`` of ``samples`` drawn by ``seed``, in their original order (all, if fewer)."""
    if len(samples) <= n_samples:
        return list(samples)
    chosen = sorted(random.Random(seed).sample(range(len(samples)), n_samples))
    return [samples[i] for i in chosen]


def _release_file(source: DataSource, lang: str) -> Path:
    """The release's text file of ``lang``, fetched (once) into the data cache."""
    relative = mapped_code(lang, AMERICASNLP_FILES,
                           f"{AMERICASNLP} (release {source.release!r}; Wikipedia or local files "
                           f"serve the others)")
    return releases.fetch_file(source, "monolingual text", relative)


def _wikipedia(source: DataSource, lang: str, words_wanted: int) -> Iterator[str]:
    """Wikipedia articles of ``lang`` in dump order until ``words_wanted`` words are read."""
    wiki = mapped_code(lang, WIKIPEDIA_CODES, "Wikipedia (give local text files for the others)")
    rows = load_hub(source, f"{WIKIPEDIA_DUMP}.{wiki}", "train", streaming=True)
    words = 0
    try:
        for row in rows:
            yield row["text"]
            words += len(WORD.findall(row["text"]))
            if words >= words_wanted:
                return
    except Exception as error:  # noqa: BLE001 - a failing stream becomes one clear message
        raise DataError(f"reading hub dataset {source.hub!r} ({WIKIPEDIA_DUMP}.{wiki}) failed: "
                        f"{type(error).__name__}: {error}") from None
