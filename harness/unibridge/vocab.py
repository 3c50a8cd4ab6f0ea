"""Stage 1: vocabulary-size search driven by average log probability (Algorithm 1, Eq. 1).

Example::

    stage = VocabSearchStage(VocabSearchConfig(threshold=5.0), corpus=corpus_stage)
    artifact = Cache(root).materialize(stage, ctx)   # spm.model, spm.vocab, search.json

    trainer = SpmTrainer(Path("corpus.txt"), VocabSearchConfig(), cache_dir=Path("spm-cache"))
    outcome = search_vocab_size(trainer.evaluate, VocabSearchConfig())
    outcome.size, outcome.alp, trainer.trainings

Algorithm 1 (paper): train at v_i; then repeatedly v += δ_v, train, Δ_s = ALP(v) − ALP(v − δ_v),
and stop at the first v with Δ_s ≤ ε_s, returning the tokenizer of that v (the larger of the two
sizes compared). When v would pass v_m it trains v_m and returns it. :func:`linear_scan` is that
loop verbatim.

The fast search (:func:`bracketed_search`) returns the same size with fewer trainings when ALP is
a concave curve of v plus an error of at most ``DELTA_NOISE``/2 per size (SentencePiece's
training noise), so every Δ_s is within ``DELTA_NOISE`` of a non-increasing Δ. It trains v_i,
v_i + δ_v and v_i + 4δ_v (not v_m, which costs a large training and may not fit the corpus),
then pairs (v − δ_v, v) placed by a power-law fit of ALP (bisection after two misses) until it
has certified a lower end ``lo``: a chord of ALP between evaluated sizes, minus
the noise allowance, bounds every Δ_s below ``lo`` above ε_s. It then runs Algorithm 1's loop
from ``lo`` (:func:`scan_from`) on cached trainings, so the returned size always has a measured
Δ_s ≤ ε_s and every earlier Δ_s is measured or certified > ε_s. Non-monotone Δ_s above ``lo``
cost nothing; only chords below ``lo`` that rise by more than the noise allows make it warn and
scan from v_i (still reusing the cache).

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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from harness.corpus import CORPUS_FILE
from harness.graph import Stage, StageContext, atomic_write_text, hash_payload

log = logging.getLogger(__name__)

SEARCH_FILE = "search.json"
MODEL_FILE = "spm.model"
VOCAB_FILE = "spm.vocab"
ALP_FILE = "alp.json"
_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")
_TOO_LOW = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")
_FIRST_FIT_POINT = 4  # grid index of the third size trained, for the first power-law fit
_MAX_MODEL_STEPS = 2  # interpolated probes before the search falls back to bisection
_MAX_PROBES = 8  # probe pairs before the scan starts from the lower end reached
_SCAN_WIDTH = 3  # scan once at most this many sizes separate the lower end from the crossing
DELTA_NOISE = 0.5  # ALP noise allowance (per-sentence nats): Δ_s may stray this far from a concave curve

Evaluate = Callable[[Sequence[int]], Mapping[int, float]]


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


class _Memo:
    """ALP values evaluated so far (an evaluation is asked for only once)."""

    def __init__(self, evaluate: Evaluate):
        self.evaluate = evaluate
        self.alp: dict[int, float] = {}

    def get(self, sizes: Sequence[int]) -> list[float]:
        missing = [s for s in dict.fromkeys(sizes) if s not in self.alp]
        if missing:
            self.alp.update(self.evaluate(missing))
        return [self.alp[s] for s in sizes]


def size_grid(config: VocabSearchConfig, top: int, floor: int = 0) -> list[int]:
    """Sizes Algorithm 1 visits before the cap: v_i, v_i + δ_v, ... ≤ ``top``, none below ``floor``."""
    return [v for v in range(config.start, top + 1, config.step) if v >= floor]


def linear_scan(memo: _Memo, grid: Sequence[int], threshold: float) -> int | None:
    """Algorithm 1's loop: index of the first size with Δ_s ≤ ε_s, None when the cap is hit."""
    (previous,) = memo.get([grid[0]])
    for k in range(1, len(grid)):
        (current,) = memo.get([grid[k]])
        if current - previous <= threshold:
            return k
        previous = current
    return None


def bracketed_search(memo: _Memo, grid: Sequence[int], threshold: float,
                     noise: float = DELTA_NOISE) -> int | None:
    """Same index as :func:`linear_scan` when ALP is concave up to ``noise`` (see module doc).

    Phase 1 trains a few sizes to find ``lo``: every Δ_s before index ``lo`` is provably > ε_s.
    Phase 2 is Algorithm 1's loop resumed at ``lo`` (:func:`scan_from`), so the answer is always
    a directly measured Δ_s ≤ ε_s with every earlier Δ_s > ε_s.
    """
    last = len(grid) - 1
    if last == 0:
        return None
    memo.get([grid[0], grid[1], grid[min(last, _FIRST_FIT_POINT)]])
    lo = _locate(memo, grid, threshold, noise)
    if _violations(memo, grid, lo, noise):
        log.warning("ALP is not concave within the noise %.2f below size %d: linear scan",
                    noise, grid[min(lo, last)])
        lo = 1
    return scan_from(memo, grid, threshold, lo)


def scan_from(memo: _Memo, grid: Sequence[int], threshold: float, lo: int) -> int | None:
    """Algorithm 1's loop from index ``lo`` on: first k ≥ lo with Δ_s(k) ≤ ε_s, None at the cap."""
    for k in range(max(lo, 1), len(grid)):
        previous, current = memo.get([grid[k - 1], grid[k]])
        if current - previous <= threshold:
            return k
    return None


def _locate(memo: _Memo, grid: Sequence[int], threshold: float, noise: float) -> int:
    """Probe pairs (k − 1, k) until few sizes are left to scan from ``lo``; returns ``lo``.

    Each probe aims just below where the fitted curve's Δ_s enters ε_s + 2·noise, the last place
    a measured pair can still certify "Δ_s > ε_s below here"; bisection after model misses.
    """
    for step in range(_MAX_PROBES):
        lo = _certain_lower_end(memo, grid, threshold, noise)
        hi = _first_measured_crossing(memo, grid, threshold)
        if lo >= len(grid) or hi - lo <= _SCAN_WIDTH:
            break
        if _predict(memo, grid, threshold, lo, hi - 1) - lo <= _SCAN_WIDTH:
            break
        target = max(lo, _predict(memo, grid, threshold + 2 * noise, lo, hi - 1) - 1)
        if step >= _MAX_MODEL_STEPS or _known_pair(memo, grid, target):
            target = (lo + hi) // 2
        if _known_pair(memo, grid, target):
            break
        memo.get([grid[target - 1], grid[target]])
    return _certain_lower_end(memo, grid, threshold, noise)


def _known_pair(memo: _Memo, grid: Sequence[int], k: int) -> bool:
    return grid[k - 1] in memo.alp and grid[k] in memo.alp


def _evaluated(memo: _Memo, grid: Sequence[int]) -> list[int]:
    return [k for k in range(len(grid)) if grid[k] in memo.alp]


def _certain_lower_end(memo: _Memo, grid: Sequence[int], threshold: float, noise: float) -> int:
    """Largest ``lo`` with Δ_s(m) > ε_s certain for every m < lo, from chords of evaluated sizes.

    With ALP = concave curve + error of at most ``noise``/2, the chord of evaluated i < j bounds
    the concave part's Δ(m) ≥ chord − noise/(j − i) for m ≤ i + 1, and the scan's Δ_s(m) is within
    ``noise`` of it.
    """
    points, lo = _evaluated(memo, grid), 1
    for a, i in enumerate(points):
        for j in points[a + 1:]:
            bound = _chord(memo, grid, i, j) - noise / (j - i) - noise
            if bound > threshold:
                lo = max(lo, i + 2)
    return lo


def _first_measured_crossing(memo: _Memo, grid: Sequence[int], threshold: float) -> int:
    """Smallest k with both sizes evaluated and Δ_s(k) ≤ ε_s; len(grid) when there is none."""
    points = _evaluated(memo, grid)
    crossings = [k for k in points if k - 1 in points and _chord(memo, grid, k - 1, k) <= threshold]
    return min(crossings, default=len(grid))


def _violations(memo: _Memo, grid: Sequence[int], lo: int, noise: float) -> bool:
    """Whether chords of consecutive evaluated sizes up to ``lo`` increase by more than noise allows."""
    points = [k for k in _evaluated(memo, grid) if k <= lo]
    spans = list(zip(points, points[1:]))
    for (i, j), (_, n) in zip(spans, spans[1:]):
        if _chord(memo, grid, j, n) - _chord(memo, grid, i, j) > noise / (j - i) + noise / (n - j):
            return True
    return False


def _chord(memo: _Memo, grid: Sequence[int], i: int, j: int) -> float:
    """Mean Δ_s over steps i+1..j: (ALP(grid[j]) − ALP(grid[i])) / (j − i)."""
    return (memo.alp[grid[j]] - memo.alp[grid[i]]) / (j - i)


def _predict(memo: _Memo, grid: Sequence[int], threshold: float, lo: int, top: int) -> int:
    """Index in [lo, top] where Δ_s is expected to reach ε_s, from a curve fitted to the ALPs.

    The model ALP(v) = α + β·h_p(v) with h_p(v) = v^(1−p) / (1−p) (log v for p = 1) makes Δ_s
    decay like v^(−p), the flattening Algorithm 1 looks for; α, β are least squares for each p of
    a grid and the best p wins. Only where to probe depends on it, never the answer.
    """
    known = sorted(set(memo.alp) & set(grid))
    sizes = np.array(known, dtype=np.float64) / grid[0]
    alps = np.array([memo.alp[s] for s in known])
    _, p, beta = min((_fit(sizes, alps, p) for p in np.linspace(0.0, 3.0, 301)), key=lambda f: f[0])
    candidates = np.arange(lo, top + 1)
    v = np.array([grid[k] for k in candidates], dtype=np.float64) / grid[0]
    delta = beta * (_shape(v, p) - _shape(v - (grid[1] - grid[0]) / grid[0], p))
    below = np.flatnonzero(delta <= threshold)
    return int(candidates[below[0]]) if below.size else top


def _shape(v: np.ndarray, p: float) -> np.ndarray:
    return np.log(v) if abs(p - 1) < 1e-9 else v ** (1 - p) / (1 - p)


def _fit(sizes: np.ndarray, alps: np.ndarray, p: float) -> tuple[float, float, float]:
    """(squared residual, p, β) of the least-squares fit ALP ≈ α + β·h_p(v)."""
    design = np.stack([np.ones_like(sizes), _shape(sizes, p)], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, alps, rcond=None)
    residual = float(np.sum((design @ coefficients - alps) ** 2))
    return residual, float(p), float(coefficients[1])


def search_vocab_size(evaluate: Evaluate, config: VocabSearchConfig, fast: bool = True) -> SearchOutcome:
    """Algorithm 1's result; ``fast`` (bracketed search) only changes how many sizes are evaluated.

    A size the corpus cannot fill (:class:`VocabTooLargeError`) lowers the cap v_m to the largest
    trainable size; a size too small for the corpus's characters (:class:`VocabTooSmallError`)
    raises the floor of the grid to the smallest trainable size. The search then restarts,
    reusing what was evaluated.
    """
    memo = _Memo(evaluate)
    bounds = _Bounds(top=config.max_size)
    while True:
        try:
            return _search_within(memo, config, fast, bounds)
        except UntrainableSizeError as error:
            bounds.narrow(error)


@dataclass
class _Bounds:
    """The trainable size range learnt from SentencePiece so far, and the notes saying so."""

    top: int
    floor: int = 0
    max_trainable: int | None = None
    notes: list[str] = field(default_factory=list)

    def narrow(self, error: UntrainableSizeError) -> None:
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

    def clamp_fixed(self, size: int) -> int:
        """The ablation's fixed size moved into the trainable range (v_m does not apply to it)."""
        return min(max(size, self.floor), self.max_trainable or size)


def _search_within(memo: _Memo, config: VocabSearchConfig, fast: bool, bounds: _Bounds) -> SearchOutcome:
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
