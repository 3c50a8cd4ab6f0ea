"""Stage 1: vocabulary-size search driven by average log probability (Algorithm 1, Eq. 1).

Example::

    stage = VocabSearchStage(VocabSearchConfig(threshold=5.0), corpus=corpus_stage)
    artifact = Cache(root).materialize(stage, ctx)   # spm.model, spm.vocab, search.json

    trainer = SpmTrainer(Path("corpus.txt"), VocabSearchConfig(), cache_dir=Path("spm-cache"))
    outcome = search_vocab_size(trainer.evaluate, VocabSearchConfig(), lookahead=2)
    outcome.size, outcome.alp, trainer.trainings

Algorithm 1 (paper): train at v_i; then repeatedly v += δ_v, train, Δ_s = ALP(v) − ALP(v − δ_v),
and stop at the first v with Δ_s ≤ ε_s, returning the tokenizer of that v (the larger of the two
sizes compared). When v would pass v_m it trains v_m and returns it.

The search (:func:`search_vocab_size`, in :mod:`harness.methods.unibridge.size_search`) trains the next k
sizes of Algorithm 1's grid at once (``lookahead`` k, default the usable cores) and reads Δ_s in
Algorithm 1's order, so it returns Algorithm 1's size for every k. This module trains and scores.

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
  and reruns share trainings, including the up to k − 1 sizes trained beyond the answer.
- Cores: k sizes train at once (threads; SentencePiece releases the GIL), each with
  ``num_threads`` SentencePiece threads, so k × ``num_threads`` threads share the usable cores.
  ``num_threads`` changes the trained pieces (the EM statistics are summed per thread), so it is
  part of :class:`VocabSearchConfig`, the stage key and the training cache key, and is fixed
  (default 1), never taken from the machine: the same corpus gives the same tokenizer on any
  machine. k changes only the cost, never the size (see :mod:`harness.methods.unibridge.size_search`),
  so it is a run option outside the config and the key; default k = usable cores. Why one thread
  per training and k = cores: docs/choices.md, "k against `num_threads`".
- search.json's ``alp`` and ``delta`` hold Algorithm 1's trajectory (the sizes up to the one
  returned, the same for every k); ``alp_ahead`` the sizes trained beyond it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.core.graph import Stage, StageContext, hash_payload
from harness.core.manifest import file_sha256
from harness.core.shortfalls import SHORTFALL_KEY
from harness.core.workdir import atomic_write_text
from harness.methods.unibridge.size_search import (
    SearchOutcome,
    UntrainableSizeError,
    VocabSearchConfig,
    VocabTooLargeError,
    VocabTooSmallError,
    corpus_capped,
    search_vocab_size,
    size_grid,
    usable_cores,
)
from harness.stages.corpus import CORPUS_FILE

__all__ = [  # the search's names are re-exported: stage 1's API is this module
    "SearchOutcome", "SpmTrainer", "UntrainableSizeError", "VocabSearchConfig", "VocabSearchStage",
    "VocabTooLargeError", "VocabTooSmallError", "average_log_probability", "run_search",
    "search_vocab_size", "size_grid",
]

log = logging.getLogger(__name__)

SEARCH_FILE = "search.json"
MODEL_FILE = "spm.model"
VOCAB_FILE = "spm.vocab"
ALP_FILE = "alp.json"


def average_log_probability(sentences: Sequence[Sequence[int]]) -> float:
    """Eq. 1: ALP(D, t) = (1/|t(D)|) Σ_j Σ_k log p_uni(s_j^k), over tokenized sentences.

    p_uni(x) = count of x in all ``sentences`` / total token count; |t(D)| = len(sentences).
    Computed per token type: Σ_x count(x) · log(count(x) / total).
    """
    import numpy as np

    if not sentences:
        raise ValueError("ALP of an empty corpus")
    ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in sentences])
    counts = np.bincount(ids)
    counts = counts[counts > 0].astype(np.float64)
    return float(np.sum(counts * np.log(counts / counts.sum())) / len(sentences))


class SpmTrainer:
    """Trains SentencePiece unigram models on one corpus through an on-disk cache.

    ``evaluate(sizes)`` returns {size: ALP} and is the oracle the search uses; up to
    ``parallel`` uncached sizes train at once. ``trainings`` counts the trainings actually run
    (cache misses); each cache entry's alp.json also records the training's wall ``seconds``.
    """

    def __init__(self, corpus: Path, config: VocabSearchConfig, cache_dir: Path, parallel: int = 1):
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
            started = time.perf_counter()
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
            seconds = round(time.perf_counter() - started, 3)
            atomic_write_text(tmp / ALP_FILE, json.dumps({"size": size, "alp": alp, "seconds": seconds}))
            _publish(tmp, self.entry(size))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _publish(tmp: Path, final: Path) -> None:
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / ALP_FILE).is_file():  # not a finished concurrent writer: a real failure
            raise


def run_search(corpus: Path, config: VocabSearchConfig, out: Path, cache_dir: Path | None = None,
               lookahead: int | None = None) -> dict:
    """Search, copy the found tokenizer to ``out`` and write ``search.json``; returns its content.

    ``lookahead`` k sizes train at once (default: usable cores; 1 is the serial scan); it
    changes the cost only. Without ``cache_dir`` trainings are cached in a temporary directory
    for this search only.
    """
    lookahead = usable_cores() if lookahead is None else lookahead
    with tempfile.TemporaryDirectory() as scratch:
        trainer = SpmTrainer(corpus, config, Path(cache_dir or scratch), parallel=lookahead)
        outcome = search_vocab_size(trainer.evaluate, config, lookahead)
        out.mkdir(parents=True, exist_ok=True)
        for name in (MODEL_FILE, VOCAB_FILE):
            shutil.copyfile(trainer.entry(outcome.size) / name, out / name)
    report = _report(outcome, config) | {"trainings": trainer.trainings, "lookahead": lookahead}
    atomic_write_text(out / SEARCH_FILE, json.dumps(report, indent=2))
    log.info("vocabulary size %d (%s, %d trainings, lookahead %d)", outcome.size,
             outcome.strategy, trainer.trainings, lookahead)
    return report


def _report(outcome: SearchOutcome, config: VocabSearchConfig) -> dict:
    """search.json's facts: Algorithm 1's trajectory (``alp``, ``delta``), then what lay beyond."""
    trajectory = {v: a for v, a in outcome.alp.items() if v <= outcome.size}
    delta = {v: d for v, d in outcome.deltas(config.step).items() if v <= outcome.size}
    return {
        "size": outcome.size, "vocab_size": outcome.size, "strategy": outcome.strategy,
        "alp": {str(v): a for v, a in sorted(trajectory.items())},
        "delta": {str(v): d for v, d in delta.items()},
        "alp_ahead": {str(v): a for v, a in sorted(outcome.alp.items()) if v > outcome.size},
        "sizes_evaluated": len(outcome.alp), "max_trainable": outcome.max_trainable,
        "notes": outcome.notes, "outcome_note": outcome.outcome_note, "threshold": config.threshold,
    }


class VocabSearchStage(Stage):
    """Stage 1: ``corpus`` (corpus.txt) -> spm.model, spm.vocab, search.json."""

    kind = "vocab_search"
    version = 2  # 2: Algorithm 1's scan is the only search (version 1 could return another size)

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Search on the corpus (k = usable cores), trainings cached under ``<cache root>/spm_trainings``."""
        cache_dir = ctx.cache.root / "spm_trainings" if ctx.cache is not None else None
        run_search(inputs["corpus"] / CORPUS_FILE, self.config, out, cache_dir)

    def summary(self, artifact: Path) -> dict:
        """The found vocabulary size (Table 20) and, when it is not the threshold's, why.

        Why is a ``note`` when v_m ended the search and a data shortfall
        (:data:`harness.core.shortfalls.SHORTFALL_KEY`) when the corpus did (:func:`corpus_capped`).
        """
        search = json.loads((artifact / SEARCH_FILE).read_text())
        note = search.get("outcome_note")
        if not note:
            return {"vocab_size": search["vocab_size"]}
        short = corpus_capped(search.get("max_trainable"), self.config.max_size)
        return {"vocab_size": search["vocab_size"], SHORTFALL_KEY if short else "note": note}


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md ("Stage 1"). Both trees search alike
    (``UniBridge/MultiTok/train.py``: ``train``; ``mbert/build.py:19-28`` calls it, ``xlm/build.py``
    has the call commented out, the same arguments); their SentencePiece version (0.1.98 or
    0.1.99, docs/fidelity.md) is the environment's, not an option.
    """
    if tree not in ("xlm", "mbert"):
        raise ValueError(f"unknown tree of the authors' code: {tree!r}")
    return {
        "start": 3000,  # build.py:24 min_vocab=3_000
        "character_coverage": 1.0,  # train.py:116-119 (0.9995 only for zh ja ko wuu)
        "num_threads": 16,  # SentencePiece's default: train.py:135-141 passes none
        "max_sentence_length": 4192,  # SentencePiece's default: train.py:135-141 passes none
        "stop_rule": "abs_delta_lt",  # train.py:167
        "cap_rule": "last_grid_size",  # train.py:133-151
    }
