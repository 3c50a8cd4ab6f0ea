"""How stage 1 walks Algorithm 1's grid of sizes: its linear scan, ``k`` sizes trained at a time.

Example::

    outcome = search_vocab_size(trainer.evaluate, config, lookahead=usable_cores())
    outcome.size   # Algorithm 1's size, whatever the lookahead

    memo = AlpMemo(trainer.evaluate)                  # {size: ALP}, each size evaluated once
    index = linear_scan(memo, grid, threshold, lookahead=4)   # == linear_scan(memo, grid, threshold)

:func:`search_vocab_size` runs the scan on Algorithm 1's grid and handles sizes SentencePiece
cannot train on the corpus (:class:`UntrainableSizeError`): they narrow the grid and the scan
restarts on what is already known.

Algorithm 1 (paper) trains v_i, then v_i + δ_v, v_i + 2δ_v, ... and stops at the first size whose
step changed ALP (Eq. 1) by Δ_s = ALP(v) − ALP(v − δ_v) ≤ ε_s. :func:`linear_scan` is that loop.
With ``lookahead`` k > 1, whenever the next size it must read is untrained it asks for the next k
untrained sizes of the grid in one call (the trainer trains them concurrently), then keeps
reading Δ_s strictly in Algorithm 1's order. So the index it returns is the serial scan's for
every k and every ALP curve, noisy or not: k only decides how many sizes beyond the answer are
trained (at most k − 1, kept in the trainer's cache) and how long the search takes.

Why not a search that skips sizes: the bracketed search this module used to hold certified
"Δ_s > ε_s" for untrained sizes from a concavity bound that assumed ALP noise of at most 0.5
nats; real SentencePiece trainings show about ±1.5 (docs/benchmarks.md), where it returned a
larger size than Algorithm 1 on 2–25 % of noisy synthetic curves. Speed now comes from cores,
never from guessing an ALP value.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from harness.core.config import StrictConfig, added_option
from harness.core.shortfalls import SHORTFALL

log = logging.getLogger(__name__)

Evaluate = Callable[[Sequence[int]], Mapping[int, float]]


class VocabSearchConfig(StrictConfig):
    """Algorithm 1's settings (paper defaults) and the SentencePiece options that enter the key.

    Options for the authors' code (``mbert/UniBridge/MultiTok/train.py`` at 6a38462, the same
    search in ``xlm/``; docs/fidelity.md, "Stage 1"; the paper's reading is each default):

    - ``start`` v_i: 7000 in the paper (Table 7); their ``build.py:24`` passes ``min_vocab=3_000``.
    - ``character_coverage``: 0.9995 here (SentencePiece's default, silent in the paper); theirs
      1.0 for every language but zh/ja/ko/wuu (``train.py:116-119``).
    - ``num_threads``: 1 here; theirs SentencePiece's default, 16 (no ``num_threads`` in
      ``train.py:135-141``). A thread count changes the pieces but not from run to run
      (measured: docs/fidelity.md), so the search stays deterministic at 16.
    - ``max_sentence_length``: 16384 bytes here; theirs SentencePiece's default, 4192 (longer
      lines are left out of training; ALP still scores them).
    - ``stop_rule``: ``delta_le`` stops at the first Δ_s ≤ ε_s (Algorithm 1); ``abs_delta_lt`` at
      the first |Δ_s| < ε_s (``train.py:167``), so a fall of ALP by ε_s or more goes on.
    - ``cap_rule``: which size a search that meets no stopping step returns. ``cap`` (Algorithm
      1): v_m, or the largest size the corpus can fill when that is smaller. ``last_grid_size``
      (``train.py:133-151``): the search never leaves the grid v_i + kδ_v; at the first size the
      corpus cannot fill it returns the size one step below (also below v_i, once), and at v_m
      the last grid size ≤ v_m.
    """

    threshold: float = Field(5.0, ge=0, description="ε_s; Figure 3 also uses 10 and 15")
    start: int = Field(7000, gt=0, description="v_i")
    step: int = Field(1000, gt=0, description="δ_v")
    max_size: int = Field(60_000, gt=0, description="v_m")
    fixed_size: int | None = Field(None, gt=0, description="ablation: train this size, no search")
    character_coverage: float = Field(0.9995, gt=0, le=1)
    max_sentence_length: int = Field(16384, gt=0, description="bytes; longer samples are dropped")
    num_threads: int = Field(1, gt=0, description="SentencePiece threads per training: changes the "
                             "trained pieces, so fixed (never the machine's core count) and keyed")
    stop_rule: Literal["delta_le", "abs_delta_lt"] = added_option("delta_le")
    cap_rule: Literal["cap", "last_grid_size"] = added_option("cap")

    def training_options(self) -> dict:
        """The SentencePiece options that determine a trained model (the cache key's part)."""
        return dict(model_type="unigram", character_coverage=self.character_coverage,
                    max_sentence_length=self.max_sentence_length, num_threads=self.num_threads)

    def stops(self, delta: float) -> bool:
        """Whether a step whose ALP changed by ``delta`` ends the search (``stop_rule``)."""
        if self.stop_rule == "abs_delta_lt":
            return abs(delta) < self.threshold
        return delta <= self.threshold

    def capped(self, top: int, floor: int = 0) -> int:
        """The size a search capped at ``top`` (v_m or the corpus's limit) returns (``cap_rule``).

        ``last_grid_size``: the largest of v_i − δ_v, v_i, v_i + δ_v, ... ≤ ``top``; ``top`` itself
        when that is below ``floor`` or not positive (their code would fail there: docs/fidelity.md).
        """
        if self.cap_rule == "cap" or top < self.start - self.step:
            return top
        size = self.start + (top - self.start) // self.step * self.step
        return size if size >= max(floor, 1) else top


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")
_TOO_LOW = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


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


class AlpMemo:
    """ALP values evaluated so far (an evaluation is asked for only once)."""

    def __init__(self, evaluate: Evaluate):
        self.evaluate = evaluate
        self.alp: dict[int, float] = {}

    def get(self, sizes: Sequence[int]) -> list[float]:
        """ALP of each of ``sizes``, evaluating the unknown ones in one call."""
        missing = [s for s in dict.fromkeys(sizes) if s not in self.alp]
        if missing:
            self.alp.update(self.evaluate(missing))
        return [self.alp[s] for s in sizes]


def linear_scan(memo: AlpMemo, grid: Sequence[int], threshold: float,
                lookahead: int = 1, stops: Callable[[float], bool] | None = None) -> int | None:
    """Algorithm 1's loop: index of the first size with Δ_s ≤ ε_s, None when the cap is hit.

    Args:
        memo: the ALP oracle; a call with several sizes may train them concurrently.
        grid: v_i, v_i + δ_v, ... up to the cap v_m.
        threshold: ε_s.
        lookahead: k, how many untrained sizes to ask for at once (1: Algorithm 1 verbatim).
        stops: whether a step's Δ_s ends the search, in place of Δ_s ≤ ε_s
            (:meth:`VocabSearchConfig.stops`).
    """
    stops = stops or (lambda delta: delta <= threshold)
    if lookahead < 1:
        raise ValueError(f"lookahead must be at least 1, got {lookahead}")
    for k in range(1, len(grid)):
        while grid[k - 1] not in memo.alp or grid[k] not in memo.alp:
            memo.get(_next_untrained(memo, grid[k - 1:], lookahead))
        if stops(memo.alp[grid[k]] - memo.alp[grid[k - 1]]):
            return k
    return None


def _next_untrained(memo: AlpMemo, sizes: Sequence[int], count: int) -> list[int]:
    """The first ``count`` of ``sizes`` (in order) that ``memo`` has no ALP for."""
    return [s for s in sizes if s not in memo.alp][:count]


@dataclass
class SearchOutcome:
    """What a search found: the size, every ALP it evaluated, and how."""

    size: int
    alp: dict[int, float]
    strategy: str
    max_trainable: int | None = None
    notes: list[str] = field(default_factory=list)
    #: Why the size is not one the threshold chose (the grid was empty, or the scan hit the cap);
    #: also in ``notes``. Unlike the other notes it does not depend on the lookahead.
    outcome_note: str | None = None

    def deltas(self, step: int) -> dict[int, float]:
        """Δ_s = ALP(v) − ALP(v − step) for every evaluated v whose predecessor was evaluated."""
        return {v: a - self.alp[v - step] for v, a in sorted(self.alp.items()) if v - step in self.alp}


def size_grid(config: VocabSearchConfig, top: int, floor: int = 0) -> list[int]:
    """Sizes Algorithm 1 visits before the cap: v_i, v_i + δ_v, ... ≤ ``top``, none below ``floor``."""
    return [v for v in range(config.start, top + 1, config.step) if v >= floor]


def search_vocab_size(evaluate: Evaluate, config: VocabSearchConfig,
                      lookahead: int | None = None) -> SearchOutcome:
    """Algorithm 1's result, asking ``evaluate`` for ``lookahead`` sizes at a time.

    ``lookahead`` (default: usable cores) changes which sizes beyond the answer get evaluated,
    never the answer. A size the corpus cannot fill (:class:`VocabTooLargeError`) lowers the cap
    v_m to the largest trainable size; a size too small for the corpus's characters
    (:class:`VocabTooSmallError`) raises the floor of the grid to the smallest trainable size.
    The search then restarts, reusing what was evaluated.
    """
    memo = AlpMemo(evaluate)
    bounds = _Bounds(top=config.max_size)
    lookahead = usable_cores() if lookahead is None else lookahead
    while True:
        try:
            return _search_within(memo, config, lookahead, bounds)
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
            self.notes.append(f"vocabulary size {error.size} is too large: this corpus makes at "
                              f"most {self.top} pieces, so the search stops there")
        else:
            self.floor = max(self.floor, error.bound)
            self.notes.append(f"vocabulary size {error.size} is too small to hold every character "
                              f"of this corpus; the search starts at {self.floor}")
        log.info("%s", self.notes[-1])  # a detail: the warning, if any, is the search's outcome
        if self.floor > self.top:
            raise ValueError(f"no vocabulary size is trainable: the corpus needs at least "
                             f"{self.floor} pieces and the cap is {self.top}")
        return (self.top, self.floor, self.max_trainable) != before

    def clamp_fixed(self, size: int) -> int:
        """The ablation's fixed size moved into the trainable range (v_m does not apply to it)."""
        size = max(size, self.floor)
        return min(size, self.max_trainable) if self.max_trainable is not None else size


def _search_within(memo: AlpMemo, config: VocabSearchConfig, lookahead: int,
                   bounds: _Bounds) -> SearchOutcome:
    top, max_trainable, notes = bounds.top, bounds.max_trainable, bounds.notes
    if config.fixed_size is not None:
        size = bounds.clamp_fixed(config.fixed_size)
        memo.get([size])
        return SearchOutcome(size, dict(memo.alp), "fixed", max_trainable, notes)
    grid = size_grid(config, top, bounds.floor)
    capped = config.capped(top, bounds.floor)
    outcome_note = None
    if not grid:
        outcome_note = (f"the corpus is too small for the vocabulary search: it allows sizes "
                        f"{bounds.floor} to {top} only, and none of the sizes to try (from "
                        f"{config.start} in steps of {config.step}) is among them; using {capped}")
        index, strategy = None, "cap"
    else:
        index = linear_scan(memo, grid, config.threshold, lookahead, config.stops)
        strategy = "linear"
        if index is None:
            outcome_note = cap_reached_note(memo, grid, config, top)
            if capped != top:
                outcome_note += f"; cap_rule last_grid_size: the size is the grid's last, {capped}"
    if outcome_note:  # the corpus, not the suite, ending the search is a data shortfall
        short = corpus_capped(max_trainable, config.max_size)
        log.warning("%s", outcome_note, extra=SHORTFALL if short else None)
    size = capped if index is None else grid[index]
    memo.get([size])
    return SearchOutcome(size, dict(memo.alp), strategy, max_trainable,
                         notes + ([outcome_note] if outcome_note else []), outcome_note)


def corpus_capped(max_trainable: int | None, max_size: int) -> bool:
    """Whether the corpus, not v_m, capped the search: its outcome note is then a data shortfall.

    Decided from what search.json keeps (``max_trainable``), so that the stage's summary says
    the same for an artifact of any age (:mod:`harness.core.shortfalls`).
    """
    return max_trainable is not None and max_trainable < max_size


def cap_reached_note(memo: AlpMemo, grid: Sequence[int], config: VocabSearchConfig,
                     top: int) -> str:
    """Why the scan's size is its cap: no step met ε_s before it (Algorithm 1 ends at v_m).

    Names the last Δ_s and what would let the search go on: a larger ``max_size``, or, when the
    corpus itself set the cap (fewer pieces than ``max_size``), more text.
    """
    last = (f"; the last step's Δ_s was {memo.alp[grid[-1]] - memo.alp[grid[-2]]:.2f}"
            if len(grid) > 1 else "")
    if top < config.max_size:
        cap, remedy = (f"the largest size this corpus can train ({top}, below max_size "
                       f"{config.max_size})"), "more text would let it go on"
    else:
        cap, remedy = f"its cap max_size {top}", "a larger vocab.max_size would let it go on"
    return (f"the vocabulary search reached {cap} before any step changed ALP by at most "
            f"ε_s = {config.threshold:g}{last}: the size is the cap, not a size Algorithm 1 "
            f"settled on; {remedy}")
