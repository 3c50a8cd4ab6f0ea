"""Stage 1: vocabulary-size search driven by average log probability (Algorithm 1, Eq. 1).

Example::

    stage = VocabSearchStage(VocabSearchConfig(threshold=5.0), corpus=corpus_stage)
    artifact = Cache(root).materialize(stage, ctx)   # spm.model, spm.vocab, search.json

    trainer = SpmTrainer(Path("corpus.txt"), VocabSearchConfig(), cache_dir=Path("spm-cache"))
    outcome = search_vocab_size(trainer.evaluate, VocabSearchConfig())
    outcome.size, outcome.alp, trainer.trainings

Algorithm 1 (paper): train at v_i; then repeatedly v += δ_v, train, Δ_s = ALP(v) − ALP(v − δ_v),
and stop at the first v with Δ_s ≤ ε_s, returning the tokenizer of that v (the larger of the two
sizes compared). When v would pass v_m it trains v_m and returns it.

The search strategies (Algorithm 1's linear scan and a fast search that returns the same size)
are in :mod:`harness.unibridge.size_search`.

Choices where the paper is silent:

- Eq. 1: p_uni(token) is the token's count in the tokenized corpus divided by the total token
  count (Zheng et al., 2021), estimated on the same corpus D that is scored; |t(D)| is the number
  of sentences (non-empty lines of the corpus); <unk> counts as a token like any other.
- SentencePiece unigram with ``hard_vocab_limit=True`` (its default): a size the corpus cannot
  fill fails with "Vocabulary size too high (v). Please set it to a value <= M."; M is read from
  that message and becomes the effective v_m (logged). ``hard_vocab_limit=False`` is avoided on
  purpose: it would silently return M pieces for every size above M, so Δ_s = 0 there and the
  search would report a size the tokenizer does not have.
- A size below what the corpus needs (every required character plus the meta pieces) fails with
  "Vocabulary size is smaller than required_chars. v vs N."; N is read from that message and the
  search starts at the first size of v_i's grid (v_i + k·δ_v) that reaches N (logged). The paper's
  v_i = 7000 never meets this; tiny corpora in a large script (the smoke suite's Amharic) do.
- ``character_coverage`` 0.9995 and ``max_sentence_length`` 16384 bytes (a 128-word sample in a
  3-byte script exceeds SentencePiece's default 4192 and would be dropped).
- Trained tokenizers and their ALP are cached on disk by (corpus hash, size, options,
  sentencepiece version), written atomically, so Figure 3's thresholds, the fixed-size ablation
  and reruns share trainings. Up to ``parallel`` sizes train at once (SentencePiece releases the
  GIL), each with ``num_threads`` threads. Neither ``parallel`` nor the choice of search enters
  the stage key: they change the cost, not the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from harness.corpus import CORPUS_FILE
from harness.graph import Stage, StageContext, atomic_write_text, hash_payload
from harness.unibridge.size_search import AlpMemo, Evaluate, bracketed_search, linear_scan

log = logging.getLogger(__name__)

SEARCH_FILE = "search.json"
MODEL_FILE = "spm.model"
VOCAB_FILE = "spm.vocab"
ALP_FILE = "alp.json"
_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")
_TOO_LOW = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


class VocabSearchConfig(BaseModel):
    """Algorithm 1's settings (paper defaults) and the SentencePiece options that enter the key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(5.0, ge=0, description="ε_s; Figure 3 also uses 10 and 15")
    start: int = Field(7000, gt=0, description="v_i")
    step: int = Field(1000, gt=0, description="δ_v")
    max_size: int = Field(60_000, gt=0, description="v_m")
    fixed_size: int | None = Field(None, gt=0, description="ablation: train this size, no search")
    character_coverage: float = Field(0.9995, gt=0, le=1)
    max_sentence_length: int = Field(16384, gt=0, description="bytes; longer samples are dropped")
    num_threads: int = Field(2, gt=0, description="SentencePiece threads per training")

    def training_options(self) -> dict:
        """The SentencePiece options that determine a trained model (the cache key's part)."""
        return dict(model_type="unigram", character_coverage=self.character_coverage,
                    max_sentence_length=self.max_sentence_length, num_threads=self.num_threads)


class UntrainableSizeError(RuntimeError):
    """SentencePiece cannot train ``size`` pieces on this corpus; ``bound`` is the nearest it can."""

    relation = ""  # "large" or "small": the subclass's word for the message and the cache file

    def __init__(self, size: int, bound: int):
        super().__init__(f"vocabulary size {size} too {self.relation} for this corpus "
                         f"(nearest trainable size {bound})")
        self.size = size
        self.bound = bound

    @classmethod
    def parse(cls, error: RuntimeError) -> UntrainableSizeError | None:
        """The error SentencePiece's message describes, if it is one of these."""
        for kind, pattern in ((VocabTooLargeError, _TOO_HIGH), (VocabTooSmallError, _TOO_LOW)):
            match = pattern.search(str(error))
            if match:
                return kind(int(match[1]), int(match[2]))
        return None


class VocabTooLargeError(UntrainableSizeError):
    """``size`` exceeds the pieces the corpus can fill; ``max_trainable`` (= bound) it can."""

    relation = "large"

    @property
    def max_trainable(self) -> int:
        """The largest size this corpus can fill."""
        return self.bound


class VocabTooSmallError(UntrainableSizeError):
    """``size`` cannot hold the corpus's required characters; ``min_trainable`` (= bound) can."""

    relation = "small"

    @property
    def min_trainable(self) -> int:
        """The smallest size that holds every required character and the meta pieces."""
        return self.bound


def average_log_probability(sentences: Sequence[Sequence[int]]) -> float:
    """Eq. 1: ALP(D, t) = (1/|t(D)|) Σ_j Σ_k log p_uni(s_j^k), over tokenized sentences.

    p_uni(x) = count of x in all ``sentences`` / total token count; |t(D)| = len(sentences).
    Computed per token type: Σ_x count(x) · log(count(x) / total).
    """
    if not sentences:
        raise ValueError("ALP of an empty corpus")
    ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in sentences])
    counts = np.bincount(ids)
    counts = counts[counts > 0].astype(np.float64)
    return float(np.sum(counts * np.log(counts / counts.sum())) / len(sentences))


def file_sha256(path: Path) -> str:
    """Content hash of a file (the corpus part of the training cache key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SpmTrainer:
    """Trains SentencePiece unigram models on one corpus through an on-disk cache.

    ``evaluate(sizes)`` returns {size: ALP} and is the oracle the searches use; ``trainings``
    counts the trainings actually run (cache misses).
    """

    def __init__(self, corpus: Path, config: VocabSearchConfig, cache_dir: Path, parallel: int = 2):
        import sentencepiece

        self.corpus = Path(corpus)
        self.config = config
        self.parallel = parallel
        self.trainings = 0
        self._lock = threading.Lock()
        options = config.training_options() | {"sentencepiece": sentencepiece.__version__}
        self.root = Path(cache_dir) / file_sha256(self.corpus)[:24] / hash_payload(options)[:24]
        text = self.corpus.read_text(encoding="utf-8")
        self.sentences = [line for line in text.split("\n") if line.strip()]  # as SentencePiece

    def entry(self, size: int) -> Path:
        """Cache directory of the model of ``size`` (spm.model, spm.vocab, alp.json)."""
        return self.root / str(size)

    def evaluate(self, sizes: Sequence[int]) -> dict[int, float]:
        """ALP of each size, training the uncached ones concurrently."""
        missing = sorted({s for s in sizes if not (self.entry(s) / ALP_FILE).is_file()})
        if missing:
            with ThreadPoolExecutor(self.parallel) as pool:
                failures = [f for f in pool.map(self._train_or_error, missing) if f is not None]
            if failures:
                raise failures[0]
        return {s: json.loads((self.entry(s) / ALP_FILE).read_text())["alp"] for s in sizes}

    def _train_or_error(self, size: int) -> UntrainableSizeError | None:
        """Train ``size``; an untrainable size is returned (and remembered on disk), not raised."""
        for kind in (VocabTooLargeError, VocabTooSmallError):
            bound_file = self.root / f"too-{kind.relation}-{size}.json"
            if bound_file.is_file():
                return kind(size, json.loads(bound_file.read_text())["bound"])
        try:
            self._train(size)
        except UntrainableSizeError as error:
            bound_file = self.root / f"too-{error.relation}-{size}.json"
            atomic_write_text(bound_file, json.dumps({"bound": error.bound}))
            return error
        return None

    def _train(self, size: int) -> None:
        """Train ``size`` into a temporary directory, score it, then rename it into place."""
        import sentencepiece as spm

        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{size}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            log.info("training SentencePiece unigram, vocab size %d", size)
            try:
                spm.SentencePieceTrainer.train(input=str(self.corpus), model_prefix=str(tmp / "spm"),
                                               vocab_size=size, minloglevel=2,
                                               **self.config.training_options())
            except RuntimeError as error:
                raise UntrainableSizeError.parse(error) or error from error
            with self._lock:
                self.trainings += 1
            processor = spm.SentencePieceProcessor(model_file=str(tmp / MODEL_FILE))
            ids = processor.encode(self.sentences, num_threads=self.config.num_threads)
            alp = average_log_probability(ids)
            log.info("vocab size %d: ALP %.4f", size, alp)
            atomic_write_text(tmp / ALP_FILE, json.dumps({"size": size, "alp": alp}))
            _publish(tmp, self.entry(size))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _publish(tmp: Path, final: Path) -> None:
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / ALP_FILE).is_file():  # not a finished concurrent writer: a real failure
            raise


@dataclass
class SearchOutcome:
    """What a search found: the size, every ALP it evaluated, and how."""

    size: int
    alp: dict[int, float]
    strategy: str
    max_trainable: int | None = None
    notes: list[str] = field(default_factory=list)

    def deltas(self, step: int) -> dict[int, float]:
        """Δ_s = ALP(v) − ALP(v − step) for every evaluated v whose predecessor was evaluated."""
        return {v: a - self.alp[v - step] for v, a in sorted(self.alp.items()) if v - step in self.alp}


def size_grid(config: VocabSearchConfig, top: int, floor: int = 0) -> list[int]:
    """Sizes Algorithm 1 visits before the cap: v_i, v_i + δ_v, ... ≤ ``top``, none below ``floor``."""
    return [v for v in range(config.start, top + 1, config.step) if v >= floor]


def search_vocab_size(evaluate: Evaluate, config: VocabSearchConfig, fast: bool = True) -> SearchOutcome:
    """Algorithm 1's result; ``fast`` (bracketed search) only changes how many sizes are evaluated.

    A size the corpus cannot fill (:class:`VocabTooLargeError`) lowers the cap v_m to the largest
    trainable size; a size too small for the corpus's characters (:class:`VocabTooSmallError`)
    raises the floor of the grid to the smallest trainable size. The search then restarts,
    reusing what was evaluated.
    """
    memo = AlpMemo(evaluate)
    bounds = _Bounds(top=config.max_size)
    while True:
        try:
            return _search_within(memo, config, fast, bounds)
        except UntrainableSizeError as error:
            if not bounds.narrow(error):
                raise


@dataclass
class _Bounds:
    """The trainable size range learnt from SentencePiece so far, and the notes saying so."""

    top: int
    floor: int = 0
    max_trainable: int | None = None
    notes: list[str] = field(default_factory=list)

    def narrow(self, error: UntrainableSizeError) -> bool:
        """Fold ``error``'s bound in; False when it teaches nothing new (the caller re-raises)."""
        before = (self.top, self.floor, self.max_trainable)
        if isinstance(error, VocabTooLargeError):
            self.max_trainable = error.max_trainable
            self.top = min(self.top, error.max_trainable)
            self.notes.append(f"size {error.size} too large for the corpus: cap lowered to {self.top}")
        else:
            self.floor = max(self.floor, error.bound)
            self.notes.append(f"size {error.size} too small for the corpus's characters: "
                              f"sizes below {self.floor} skipped")
        log.warning("%s", self.notes[-1])
        if self.floor > self.top:
            raise ValueError(f"no vocabulary size is trainable: the corpus needs at least "
                             f"{self.floor} pieces and the cap is {self.top}")
        return (self.top, self.floor, self.max_trainable) != before

    def clamp_fixed(self, size: int) -> int:
        """The ablation's fixed size moved into the trainable range (v_m does not apply to it)."""
        size = max(size, self.floor)
        return min(size, self.max_trainable) if self.max_trainable is not None else size


def _search_within(memo: AlpMemo, config: VocabSearchConfig, fast: bool, bounds: _Bounds) -> SearchOutcome:
    top, max_trainable, notes = bounds.top, bounds.max_trainable, bounds.notes
    if config.fixed_size is not None:
        size = bounds.clamp_fixed(config.fixed_size)
        memo.get([size])
        return SearchOutcome(size, dict(memo.alp), "fixed", max_trainable, notes)
    grid = size_grid(config, top, bounds.floor)
    if not grid:
        notes.append(f"no size v_i + k·δ_v lies in [{bounds.floor}, {top}]: returning the cap")
        log.warning("%s", notes[-1])
        index, strategy = None, "cap"
    elif fast:
        index, strategy = bracketed_search(memo, grid, config.threshold), "bracketed"
    else:
        index, strategy = linear_scan(memo, grid, config.threshold), "linear"
    size = top if index is None else grid[index]
    memo.get([size])
    return SearchOutcome(size, dict(memo.alp), strategy, max_trainable, notes)


def run_search(corpus: Path, config: VocabSearchConfig, out: Path, cache_dir: Path | None = None,
               fast: bool = True, parallel: int = 2) -> dict:
    """Search, copy the found tokenizer to ``out`` and write ``search.json``; returns its content.

    Without ``cache_dir`` trainings are cached in a temporary directory for this search only.
    """
    with tempfile.TemporaryDirectory() as scratch:
        trainer = SpmTrainer(corpus, config, Path(cache_dir or scratch), parallel)
        outcome = search_vocab_size(trainer.evaluate, config, fast)
        out.mkdir(parents=True, exist_ok=True)
        for name in (MODEL_FILE, VOCAB_FILE):
            shutil.copyfile(trainer.entry(outcome.size) / name, out / name)
    report = {
        "size": outcome.size, "vocab_size": outcome.size, "strategy": outcome.strategy,
        "alp": {str(v): a for v, a in sorted(outcome.alp.items())},
        "delta": {str(v): d for v, d in outcome.deltas(config.step).items()},
        "trainings": trainer.trainings, "sizes_evaluated": len(outcome.alp),
        "max_trainable": outcome.max_trainable, "notes": outcome.notes,
        "threshold": config.threshold,
    }
    atomic_write_text(out / SEARCH_FILE, json.dumps(report, indent=2))
    log.info("vocabulary size %d (%s, %d trainings)", outcome.size, outcome.strategy,
             trainer.trainings)
    return report


class VocabSearchStage(Stage):
    """Stage 1: ``corpus`` (corpus.txt) -> spm.model, spm.vocab, search.json."""

    kind = "vocab_search"
    version = 1

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Search on the corpus, with trainings cached under ``<cache root>/spm_trainings``."""
        cache_dir = ctx.cache.root / "spm_trainings" if ctx.cache is not None else None
        run_search(inputs["corpus"] / CORPUS_FILE, self.config, out, cache_dir)

    def summary(self, artifact: Path) -> dict:
        """The found vocabulary size (Table 20)."""
        return {"vocab_size": json.loads((artifact / SEARCH_FILE).read_text())["vocab_size"]}
