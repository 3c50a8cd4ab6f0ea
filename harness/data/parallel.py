"""Parallel sentences for the harmony weights (PAPER.md stage 5, Eqs. 10–13), per (target, source).

Example::

    from harness.data import parallel
    corpus = ParallelCorpus(format="folder", data=DataSource(path="fixtures/parallel"))
    pairs = parallel.load(corpus, "amh", "eng")
    target_sentence, source_sentence = pairs[0]

A suite's ``parallel:`` is a list of corpora; the first whose ``targets`` (and ``sources``, both
optional: all when left out) contain a (target, source) pair serves it
(:func:`corpus_for`). Formats, every file UTF-8 (docs/data.md has the paper's table):

- ``unibridge`` (the paper suites' default): the K sentences the UniBridge authors used for every
  pair, ``data: {release: unibridge_alignment}``, read as their ``weight.py`` reads them (the
  target side from the target–English file for every source; :mod:`harness.data.authors_parallel`).
- ``flores_plus``: the hub dataset ``openlanguagedata/flores_plus`` (gated: accept its terms on
  its hub page and log in with a token, ``hf auth login`` or ``HF_TOKEN``),
  ``load_dataset(hub, <code>_<Script>, split="dev")``, field ``text``, rows aligned by ``id``.
  The canonical → FLORES+ mapping is :data:`FLORES_CODES` (FLORES+ renamed FLORES-200's
  ``tgl_Latn`` → ``fil_Latn`` and ``grn_Latn`` → ``gug_Latn``; Chinese is ``cmn_Hans``, Arabic
  ``arb_Arab``, Aymara ``ayr_Latn``); ``codes:`` adds or overrides entries.
- ``opus``: OPUS sentence pairs in Moses form, read locally (:mod:`harness.data.opus`).
- ``folder`` (FLORES style): ``<path>/<lang>.txt`` per language, line *i* of every file the
  same sentence; files of one folder have the same number of lines.
- ``pairs``: ``<path>/<target>-<source>.tsv``, one ``target<TAB>source`` pair per line.

Pairs with an empty side are skipped; :func:`check` refuses a pair with fewer than ``k`` left.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.core.config import StrictConfig
from harness.core.languages import canonical_code
from harness.data import authors_parallel, hub, opus
from harness.data._local import existing_file, language_file, load_hub, local_root, read_lines
from harness.data.problems import Problems, read_numbered
from harness.data.source import DataError, DataSource, hash_tree

FLORES_HUB = "openlanguagedata/flores_plus"
FLORES_SPLIT = "dev"
FLORES_CODES = {
    "eng": "eng_Latn", "zho": "cmn_Hans", "rus": "rus_Cyrl", "ara": "arb_Arab", "jpn": "jpn_Jpan",
    "amh": "amh_Ethi", "crh": "crh_Latn", "khm": "khm_Khmr", "kan": "kan_Knda", "lij": "lij_Latn",
    "pbt": "pbt_Arab", "san": "san_Deva", "snd": "snd_Arab", "sin": "sin_Sinh", "som": "som_Latn",
    "tam": "tam_Taml", "tgl": "fil_Latn", "tat": "tat_Cyrl", "aym": "ayr_Latn", "grn": "gug_Latn",
    "quy": "quy_Latn",
}
"""Canonical code → FLORES+ config for the paper's languages (checked against the FLORES+ card).
FLORES+ has no ang, cdo, eml, frr, olo, bzd, cni, hch, nah, oto, shp, tar: the authors used OPUS
pairs for those (docs/data.md)."""
FLORES_ACCESS = (f"{FLORES_HUB} is gated: accept its terms on its hub page, then log in with a "
                 f"token (`hf auth login`, or set HF_TOKEN)")
Format = Literal["unibridge", "flores_plus", "opus", "folder", "pairs"]
FORMS = {"unibridge": "release", "flores_plus": "hub"}
"""Format → the data source form it reads (``release``, ``hub``); the others read ``path``."""
FORM_EXAMPLES = {"release": "a release (data: {release: unibridge_alignment})",
                 "hub": "a hub dataset (data: {hub: ID})", "path": "local files (data: {path: DIR})"}
PAIRS_SUFFIX = ".tsv"
FILL_HINTS = {
    "opus": f"fill it with the OPUS Moses files of each pair: {opus.DOWNLOAD_HINT}",
    "folder": "write one <lang>.txt per language there, line i of every file the same sentence",
    "pairs": f"write one <target>-<source>{PAIRS_SUFFIX} per pair there, a 'target<TAB>source' "
             f"pair per line",
}
"""How to fill the folder of each local format (named when it is missing)."""


class ParallelCorpus(StrictConfig):
    """One entry of a suite's ``parallel:`` list: a corpus and the pairs it serves.

    ``corpus``: the OPUS corpus name (``Tatoeba``, ``bible-uedin`` …), the first part of its Moses
    file names; ``codes``: canonical code → the corpus's own code, adding to or overriding the
    format's defaults; ``targets``/``sources``: the languages it serves (all when left out).
    """

    format: Format
    data: DataSource
    corpus: str | None = None
    codes: dict[str, str] = Field(default_factory=dict)
    targets: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None

    @field_validator("targets", "sources")
    @classmethod
    def _canonical(cls, codes: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return codes if codes is None else tuple(canonical_code(code) for code in codes)

    @field_validator("codes")
    @classmethod
    def _canonical_keys(cls, codes: dict[str, str]) -> dict[str, str]:
        return {canonical_code(lang): code for lang, code in codes.items()}

    @model_validator(mode="after")
    def _form_fits_format(self) -> ParallelCorpus:
        form = FORMS.get(self.format, "path")
        if getattr(self.data, form) is None:
            raise ValueError(f"format {self.format!r} reads {FORM_EXAMPLES[form]}")
        if (self.format == "opus") != (self.corpus is not None):
            raise ValueError("give 'corpus' (the OPUS corpus name in the file names) exactly for "
                             "format 'opus'")
        return self

    def serves(self, target: str, source: str) -> bool:
        """Whether this entry is meant for the (target, source) pair."""
        return ((self.targets is None or target in self.targets)
                and (self.sources is None or source in self.sources))

    def describe(self) -> str:
        """Short name for messages: format, corpus and where the data is."""
        where = self.data.path or self.data.hub or self.data.release
        corpus = f" {self.corpus}" if self.corpus else ""
        return f"{self.format}{corpus} ({where})"

    def resolved(self, base: Path) -> ParallelCorpus:
        """A copy whose relative data path is made absolute against ``base``."""
        return self.model_copy(update={"data": self.data.resolved(base)})


class ParallelRef(StrictConfig):
    """A corpus as a stage config holds it: format, corpus and the fingerprint of what it reads.

    The local path is excluded from ``model_dump`` (as in :class:`~harness.data.source.DataRef`);
    only the pair's own files (or the hub id, revision and configs) enter the fingerprint.
    """

    corpus: ParallelCorpus = Field(exclude=True)
    format: Format
    name: str | None = None
    fingerprint: str

    @classmethod
    def of(cls, corpus: ParallelCorpus, target: str, source: str) -> ParallelRef:
        """Reference the (target, source) pair of ``corpus`` by its current content."""
        return cls(corpus=corpus, format=corpus.format, name=corpus.corpus,
                   fingerprint=fingerprint(corpus, target, source))


def corpora_from_yaml(value: Any) -> Any:
    """A suite's ``parallel:`` value as a list of corpora; a bare data source is one corpus.

    ``{path: DIR}`` is the ``folder`` form and ``{hub: ID}`` the ``flores_plus`` form, as before
    the list existed.
    """
    if isinstance(value, Mapping) and "format" not in value and ({"path", "hub"} & set(value)):
        form = "folder" if "path" in value else "flores_plus"
        return [{"format": form, "data": dict(value)}]
    if isinstance(value, Mapping | DataSource):
        return [value]
    return value


def corpus_for(corpora: tuple[ParallelCorpus, ...], target: str, source: str) -> ParallelCorpus:
    """The first corpus that serves (target, source), or a DataError naming the choices."""
    for corpus in corpora:
        if corpus.serves(target, source):
            return corpus
    served = "; ".join(f"{c.describe()}: targets {', '.join(c.targets or ('all',))}" for c in corpora)
    raise DataError(f"no parallel corpus serves the pair {target}-{source} (listed: {served or 'none'}); "
                    f"add an entry with 'targets: [{target}]' (formats: flores_plus, opus, folder, "
                    f"pairs; docs/data.md)")


def as_corpus(corpus: ParallelCorpus | DataSource) -> ParallelCorpus:
    """``corpus`` itself, or a bare data source as the ``folder`` / ``flores_plus`` corpus."""
    if isinstance(corpus, ParallelCorpus):
        return corpus
    return ParallelCorpus(format="folder" if corpus.is_local else "flores_plus", data=corpus)


def load(corpus: ParallelCorpus | DataSource, target: str, source: str) -> list[tuple[str, str]]:
    """(target sentence, source sentence) pairs in file order, skipping pairs with an empty side."""
    corpus = as_corpus(corpus)
    if corpus.format == "unibridge":
        rows = authors_parallel.load(corpus.data, target, source)
    elif corpus.format == "pairs":
        rows = _pair_rows(_pair_file(corpus, target, source))
    else:
        rows = list(zip(*_sides(corpus, target, source)))
    return [(t.strip(), s.strip()) for t, s in rows if t.strip() and s.strip()]


def check(corpus: ParallelCorpus | DataSource, target: str, source: str, k: int = 1) -> None:
    """Raise a DataError unless (target, source) has at least ``k`` usable pairs.

    Files (local, or a release's, fetched once) are read and counted, and a pair with fewer than
    ``k`` says how many it has; a missing local folder says how to fill it. For the hub the
    languages must have a FLORES+ config (FLORES+ has 997 ``dev`` sentences per language) and
    this machine's token must be able to read its files (:func:`check_flores_access`).
    """
    corpus = as_corpus(corpus)
    if corpus.format == "flores_plus":
        for lang in (target, source):
            flores_code(corpus, lang)
        check_flores_access(corpus, target)
        return
    if corpus.data.is_local and not Path(corpus.data.path).is_dir():
        raise DataError(f"data folder {corpus.data.path} does not exist; {FILL_HINTS[corpus.format]}")
    try:
        where = ", ".join(map(str, files(corpus, target, source)))
    except DataError as error:
        if corpus.format != "opus":
            raise
        raise DataError(f"parallel pair {target}-{source}: 0 of the k = {k} sentence pairs harmony "
                        f"weights need; {error}") from None
    n_pairs = len(load(corpus, target, source))
    if n_pairs < k:
        raise DataError(f"parallel pair {target}-{source}: {n_pairs} of the k = {k} sentence pairs "
                        f"harmony weights need (both sides non-empty) in {where}")


def check_flores_access(corpus: ParallelCorpus, lang: str) -> None:
    """Raise a DataError when FLORES+ is gated for this machine's token (terms not accepted).

    Asks the hub for one file the suite reads, ``dev/<config>.jsonl`` of ``lang`` at the pinned
    revision (:func:`harness.data.hub.file_access_problem`, once per revision). Skipped where the
    files are read locally (a mirror, the hub cache) or the hub may not be asked (offline).
    """
    data = corpus.data
    if (hub.mirror_dir(data.hub) is not None or hub.offline_reason() is not None
            or hub.hub_cache_commit(data.hub, data.revision) is not None):
        return
    problem = hub.file_access_problem(data.hub, data.revision,
                                      f"{FLORES_SPLIT}/{flores_code(corpus, lang)}.jsonl")
    if problem:
        raise DataError(problem)


def files(corpus: ParallelCorpus, target: str, source: str) -> list[Path]:
    """The local files that hold the (target, source) pair (DataError when one is missing)."""
    if corpus.format == "unibridge":
        return list(dict.fromkeys(authors_parallel.pair_files(corpus.data, target, source)))
    if corpus.format == "pairs":
        return [_pair_file(corpus, target, source)]
    if corpus.format == "opus":
        return list(opus.pair_files(local_root(corpus.data), corpus.corpus, target, source,
                                    corpus.codes))
    return [language_file(corpus.data, target), language_file(corpus.data, source)]


def fingerprint(corpus: ParallelCorpus, target: str, source: str) -> str:
    """Content hash of the pair's files, or hub id, revision and the two FLORES+ configs."""
    if corpus.format == "flores_plus":
        configs = ",".join(flores_code(corpus, lang) for lang in (target, source))
        return f"{corpus.data.fingerprint()}:{configs}"
    if corpus.format == "unibridge":
        return authors_parallel.fingerprint(corpus.data, target, source)
    return "sha256:" + ",".join(hash_tree(path) for path in files(corpus, target, source))


def flores_code(corpus: ParallelCorpus, lang: str) -> str:
    """The FLORES+ config of ``lang``, or a DataError saying FLORES+ lacks it and what to use."""
    codes = {**FLORES_CODES, **corpus.codes}
    if lang not in codes:
        raise DataError(
            f"FLORES+ ({corpus.data.hub}) has no language {lang!r} in the harness's table (valid: "
            f"{', '.join(sorted(codes))}). If FLORES+ has it, name its config: "
            f"'codes: {{{lang}: <code>_<Script>}}'; otherwise serve this target from OPUS pairs "
            f"or local files (format opus, folder or pairs; docs/data.md)")
    return codes[lang]


def _sides(corpus: ParallelCorpus, target: str, source: str) -> tuple[list[str], list[str]]:
    if corpus.format == "flores_plus":
        return _flores_lines(corpus, target), _flores_lines(corpus, source)
    target_path, source_path = files(corpus, target, source)
    target_lines, source_lines = read_lines(target_path), read_lines(source_path)
    if len(target_lines) != len(source_lines):
        raise DataError(f"{target_path} has {len(target_lines)} lines but {source_path} has "
                        f"{len(source_lines)}; parallel files must align line by line")
    return target_lines, source_lines


def _flores_lines(corpus: ParallelCorpus, lang: str) -> list[str]:
    try:
        rows = load_hub(corpus.data, flores_code(corpus, lang), FLORES_SPLIT)
    except DataError as error:
        raise DataError(f"{error}. {FLORES_ACCESS}") from None
    return [row["text"] for row in sorted(rows, key=lambda row: row["id"])]


def _pair_file(corpus: ParallelCorpus, target: str, source: str) -> Path:
    path = local_root(corpus.data) / f"{target}-{source}{PAIRS_SUFFIX}"
    return existing_file(path, f"the parallel pair {target}-{source}", "pairs")


def _pair_rows(path: Path) -> list[tuple[str, str]]:
    """The ``target<TAB>source`` rows of ``path``; a DataError lists every malformed line."""
    rows = []
    problems = Problems()
    for number, line in read_numbered(path, problems):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            problems.add(path, number, f"expected 'target<TAB>source', got {len(fields)} fields")
            continue
        rows.append((fields[0], fields[1]))
    problems.raise_if_any()
    return rows
