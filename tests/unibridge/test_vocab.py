"""Stage 1 (Algorithm 1, Eq. 1): ALP by hand, the lookahead scan vs the serial one, cache, stage, CLI."""

import json
import math
import os
import random
from collections import Counter

import pytest
import sentencepiece as spm
from click.testing import CliRunner

from harness.cli.vocab_search import vocab_search
from harness.core.graph import Cache, Stage, StageContext
from harness.core.shortfalls import is_shortfall
from harness.methods.unibridge import size_search
from harness.methods.unibridge.vocab import (
    SpmTrainer,
    VocabSearchConfig,
    VocabSearchStage,
    VocabTooLargeError,
    VocabTooSmallError,
    average_log_probability,
    run_search,
    search_vocab_size,
    size_grid,
)

SYLLABLES = ["ka", "to", "mi", "ra", "ne", "su", "lo", "pe", "di", "gu", "ba", "ko"]


def write_corpus(path, lines=300, words=20, types=400, seed=0):
    rng = random.Random(seed)
    lexicon = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(types)]
    weights = [1 / (r + 1) for r in range(types)]
    text = [" ".join(rng.choices(lexicon, weights, k=words)) for _ in range(lines)]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def curve_evaluator(alp, cap=None, floor=None):
    """A fake trainer: ALP from a formula, a corpus cap and floor, and the sizes asked for
    (``asked.calls``: the sizes of each call that did not fail)."""
    asked = AskLog()

    def evaluate(sizes):
        too_small = [s for s in sizes if floor is not None and s < floor]
        if too_small:
            raise VocabTooSmallError(too_small[0], floor)
        too_large = [s for s in sizes if cap is not None and s > cap]
        if too_large:
            raise VocabTooLargeError(too_large[0], cap)
        asked.extend(sizes)
        asked.calls.append(list(sizes))
        return {s: alp(s) for s in sizes}

    return evaluate, asked


class AskLog(list):
    """The sizes a fake trainer was asked for, in order, and the calls they came in."""

    def __init__(self):
        super().__init__()
        self.calls = []


def algorithm1(alp, config, cap=None, floor=None):
    """Algorithm 1 verbatim (paper pseudo-code), v_m lowered to the corpus cap, v_i raised by δ_v
    steps to the corpus floor."""
    v_m = min(config.max_size, cap) if cap else config.max_size
    v = config.start
    while floor and v < floor:
        v += config.step
    if v > v_m:
        return v_m
    s_prev, delta = alp(v), math.inf
    while delta > config.threshold:
        v += config.step
        if v > v_m:
            return v_m
        s_curr = alp(v)
        delta, s_prev = s_curr - s_prev, s_curr
    return v


def test_alp_matches_eq1_by_hand():
    # tokens: a a b | a c  -> p(a)=3/5, p(b)=1/5, p(c)=1/5; two sentences
    expected = (3 * math.log(3 / 5) + 2 * math.log(1 / 5)) / 2
    assert average_log_probability([[0, 0, 1], [0, 2]]) == pytest.approx(expected)


def test_trainer_alp_matches_sentencepiece_encode(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt")
    trainer = SpmTrainer(corpus, VocabSearchConfig(), tmp_path / "cache")
    alp = trainer.evaluate([150])[150]
    processor = spm.SentencePieceProcessor(model_file=str(trainer.entry(150) / "spm.model"))
    sentences = [processor.encode(line, out_type=str) for line in corpus.read_text().split("\n") if line]
    counts = Counter(piece for sentence in sentences for piece in sentence)
    total = sum(counts.values())
    expected = sum(math.log(counts[p] / total) for s in sentences for p in s) / len(sentences)
    assert alp == pytest.approx(expected, rel=1e-9)


CURVES = {
    "power law": lambda v: 120 * math.log(v),
    "steep": lambda v: -4e8 / v,
    "early stop": lambda v: 30 * math.log(v),
    "never flat": lambda v: 0.01 * v,
    "exponential": lambda v: -3e4 * math.exp(-v / 9000),
    "saturating then flat": lambda v: -abs(min(v, 23_500) - 23_500) * 0.02,
    "wavy": lambda v: 110 * math.log(v) + 4 * math.sin(v / 1700),  # Δ_s rises and falls
}
LOOKAHEADS = [1, 2, 3, 4, 8, 16]


def noisy(curve, seed, amplitude):
    """``curve`` plus a fixed uniform error in [−amplitude, amplitude] per size (seeded)."""
    errors = {}

    def alp(v):
        if v not in errors:
            errors[v] = random.Random(seed * 1_000_003 + v).uniform(-amplitude, amplitude)
        return curve(v) + errors[v]

    return alp


def noisy_cases(seeds=range(100)):
    """(curve name, seed, ALP with noise up to ±1.5 nats per size, config) over many seeds."""
    for name in sorted(CURVES):
        for seed in seeds:
            amplitude = [0.25, 0.75, 1.5][seed % 3]  # Δ_s strays up to 2·amplitude
            config = VocabSearchConfig(threshold=[5.0, 10.0, 15.0][seed // 3 % 3])
            yield name, seed, noisy(CURVES[name], seed, amplitude), config


def test_default_search_equals_algorithm1_on_noisy_curves():
    wrong = []
    for name, seed, alp, config in noisy_cases():
        evaluate, _ = curve_evaluator(alp)
        if search_vocab_size(evaluate, config).size != algorithm1(alp, config):
            wrong.append((name, seed))
    assert wrong == []


@pytest.mark.parametrize("lookahead", LOOKAHEADS)
def test_lookahead_search_equals_serial_scan_on_noisy_curves(lookahead):
    for name, seed, alp, config in noisy_cases(range(40)):
        serial, serial_asked = curve_evaluator(alp)
        ahead, ahead_asked = curve_evaluator(alp)
        expected = search_vocab_size(serial, config, lookahead=1)
        outcome = search_vocab_size(ahead, config, lookahead=lookahead)
        assert outcome.size == expected.size == algorithm1(alp, config), (name, seed)
        assert serial_asked.calls == [[v] for v in serial_asked]  # k = 1: one size at a time
        assert set(serial_asked) <= set(ahead_asked)  # everything the serial scan knew, and more
        assert len(set(ahead_asked) - set(serial_asked)) <= lookahead - 1


@pytest.mark.parametrize("lookahead", LOOKAHEADS)
@pytest.mark.parametrize("threshold", [5.0, 10.0, 15.0])
@pytest.mark.parametrize("cap", [None, 30_500, 6000])
@pytest.mark.parametrize("name", sorted(CURVES))
def test_search_equals_algorithm1_on_clean_curves(name, cap, threshold, lookahead):
    config = VocabSearchConfig(threshold=threshold)
    evaluate, _ = curve_evaluator(CURVES[name], cap)
    outcome = search_vocab_size(evaluate, config, lookahead=lookahead)
    assert outcome.size == algorithm1(CURVES[name], config, cap)
    assert outcome.strategy in {"linear", "cap"}


def test_hand_worked_lookahead():
    # Δ_s: 8000: 8, 9000: 5.5, 10000: 5.5, 11000: 4.5 (first ≤ 5), 12000: 6.5, 13000: 3
    table = {7000: -100.0, 8000: -92.0, 9000: -86.5, 10000: -81.0, 11000: -76.5, 12000: -70.0,
             13000: -67.0, 14000: -66.0}
    config = VocabSearchConfig(threshold=5.0)
    evaluate, asked = curve_evaluator(table.__getitem__)
    outcome = search_vocab_size(evaluate, config, lookahead=4)
    assert outcome.size == 11000
    assert asked.calls == [[7000, 8000, 9000, 10000], [11000, 12000, 13000, 14000]]
    evaluate, asked = curve_evaluator(table.__getitem__)
    assert search_vocab_size(evaluate, config, lookahead=3).size == 11000
    assert asked.calls == [[7000, 8000, 9000], [10000, 11000, 12000]]
    evaluate, asked = curve_evaluator(table.__getitem__)
    assert search_vocab_size(evaluate, config, lookahead=1).size == 11000
    assert asked.calls == [[7000], [8000], [9000], [10000], [11000]]


def test_default_lookahead_is_the_usable_cores(monkeypatch):
    monkeypatch.setattr(size_search.os, "sched_getaffinity", lambda pid: set(range(5)))
    evaluate, asked = curve_evaluator(CURVES["power law"])
    assert search_vocab_size(evaluate, VocabSearchConfig()).size == 25_000
    assert asked.calls[0] == [7000, 8000, 9000, 10_000, 11_000]


@pytest.mark.parametrize("cap", [25_400, 26_000, 27_999])
@pytest.mark.parametrize("lookahead", [4, 8])
def test_untrainable_size_beyond_the_answer_in_a_lookahead_window(cap, lookahead):
    evaluate, asked = curve_evaluator(CURVES["power law"], cap=cap)  # Algorithm 1 stops at 25000
    outcome = search_vocab_size(evaluate, VocabSearchConfig(), lookahead=lookahead)
    assert outcome.size == 25_000 == algorithm1(CURVES["power law"], VocabSearchConfig(), cap)
    assert max(asked) <= cap


@pytest.mark.parametrize("kink", [30_000, 45_000, 55_000])
@pytest.mark.parametrize("lookahead", [1, 3])
def test_non_concave_alp_still_matches_algorithm1(kink, lookahead):
    def alp(v):  # flattens, then Δ grows again above `kink` (convex there)
        return 100 * math.log(v) + 0.05 * max(0, v - kink)

    config = VocabSearchConfig()
    evaluate, _ = curve_evaluator(alp)
    assert search_vocab_size(evaluate, config, lookahead=lookahead).size == algorithm1(alp, config)


def test_lookahead_must_be_positive():
    evaluate, _ = curve_evaluator(CURVES["power law"])
    with pytest.raises(ValueError, match="lookahead must be at least 1"):
        search_vocab_size(evaluate, VocabSearchConfig(), lookahead=0)

def test_fixed_size_bypasses_search_and_respects_cap():
    evaluate, _ = curve_evaluator(CURVES["power law"], cap=8000)
    assert search_vocab_size(evaluate, VocabSearchConfig(fixed_size=10_000)).size == 8000
    evaluate, asked = curve_evaluator(CURVES["power law"])
    assert search_vocab_size(evaluate, VocabSearchConfig(fixed_size=10_000)).size == 10_000
    assert asked == [10_000]
    evaluate, asked = curve_evaluator(CURVES["power law"], floor=12_345)
    assert search_vocab_size(evaluate, VocabSearchConfig(fixed_size=10_000)).size == 12_345
    assert asked == [12_345]


def test_real_sentencepiece_lookahead_equals_serial_and_cache_avoids_retraining(tmp_path):
    config = VocabSearchConfig(start=60, step=10, max_size=400, threshold=2.0, num_threads=1)
    for seed in (0, 1):
        corpus = write_corpus(tmp_path / f"c{seed}.txt", seed=seed)
        serial = SpmTrainer(corpus, config, tmp_path / f"serial{seed}")
        ahead = SpmTrainer(corpus, config, tmp_path / f"ahead{seed}", parallel=3)
        expected = search_vocab_size(serial.evaluate, config, lookahead=1)
        outcome = search_vocab_size(ahead.evaluate, config, lookahead=3)
        assert outcome.size == expected.size
        assert {v: a for v, a in outcome.alp.items() if v <= outcome.size} == expected.alp
        assert ahead.trainings == len(outcome.alp) and serial.trainings == len(expected.alp)
        again = SpmTrainer(corpus, config, tmp_path / f"ahead{seed}")  # Figure 3's next threshold
        assert search_vocab_size(again.evaluate, config, lookahead=1).size == outcome.size
        assert again.trainings == 0


@pytest.mark.parametrize("floor", [7001, 9500, 12_000])
@pytest.mark.parametrize("lookahead", [1, 2, 5])
def test_sizes_below_the_corpus_floor_are_skipped(floor, lookahead):
    alp = CURVES["power law"]
    evaluate, asked = curve_evaluator(alp, floor=floor)
    config = VocabSearchConfig()
    outcome = search_vocab_size(evaluate, config, lookahead=lookahead)
    assert outcome.size == algorithm1(alp, config, floor=floor)
    assert min(asked) >= floor and (min(asked) - config.start) % config.step == 0
    assert any("too small" in note for note in outcome.notes)


def test_an_error_that_narrows_nothing_is_raised_not_retried():
    def evaluate(sizes):
        raise VocabTooSmallError(sizes[0], 5)  # inconsistent: a floor already met

    with pytest.raises(VocabTooSmallError):
        search_vocab_size(evaluate, VocabSearchConfig())


def test_floor_above_cap_is_one_clear_error():
    evaluate, _ = curve_evaluator(CURVES["power law"], floor=70_000)
    with pytest.raises(ValueError, match="at least 70000 pieces and the cap is 60000"):
        search_vocab_size(evaluate, VocabSearchConfig())


def test_too_small_size_is_read_from_sentencepiece_and_remembered(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "c.txt", lines=50, types=40)
    trainer = SpmTrainer(corpus, VocabSearchConfig(num_threads=1), tmp_path / "cache")
    with pytest.raises(VocabTooSmallError) as error:
        trainer.evaluate([5])
    floor = error.value.min_trainable
    assert 5 < floor and trainer.evaluate([floor])[floor] < 0
    with pytest.raises(VocabTooSmallError):
        trainer.evaluate([floor - 1])
    monkeypatch.setattr(spm.SentencePieceTrainer, "train", pytest.fail)  # remembered: no retry
    with pytest.raises(VocabTooSmallError):
        trainer.evaluate([floor - 1])
    monkeypatch.undo()
    config = VocabSearchConfig(start=5, step=7, max_size=floor + 30, num_threads=1)
    outcome = search_vocab_size(trainer.evaluate, config)
    assert outcome.size in size_grid(config, floor + 30, floor) + [floor + 30]


def test_too_large_size_is_read_from_sentencepiece(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=50, types=40)
    trainer = SpmTrainer(corpus, VocabSearchConfig(), tmp_path / "cache")
    with pytest.raises(VocabTooLargeError) as error:
        trainer.evaluate([5000])
    cap = error.value.max_trainable
    assert 0 < cap < 5000 and trainer.evaluate([cap])[cap] < 0


def test_search_json_trajectory_is_the_same_for_every_lookahead(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", seed=2)
    config = VocabSearchConfig(start=60, step=10, max_size=400, threshold=2.0, num_threads=1)
    reports = {k: run_search(corpus, config, tmp_path / f"out{k}", lookahead=k) for k in (1, 4)}
    assert reports[1]["alp_ahead"] == {} and len(reports[4]["alp_ahead"]) <= 3
    assert reports[4]["lookahead"] == 4 and reports[4]["trainings"] >= reports[1]["trainings"]
    for field in ("vocab_size", "alp", "delta", "strategy"):
        assert reports[1][field] == reports[4][field]
    assert pieces(tmp_path / "out1/spm.model") == pieces(tmp_path / "out4/spm.model")


def pieces(model):
    """(piece, score) of each id: what a model tokenizes with (its bytes also hold its temp path)."""
    processor = spm.SentencePieceProcessor(model_file=str(model))
    return [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]


def test_key_ignores_lookahead_and_keeps_num_threads_fixed(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "c.txt")
    stage = VocabSearchStage(VocabSearchConfig(), corpus=_Corpus())
    roots = {SpmTrainer(corpus, VocabSearchConfig(), tmp_path, parallel=k).root for k in (1, 2, 16)}
    monkeypatch.setattr(size_search.os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert VocabSearchConfig().num_threads == 1  # never the machine's cores
    assert VocabSearchStage(VocabSearchConfig(), corpus=_Corpus()).key == stage.key
    assert len(roots) == 1 and not any("look" in name for name in VocabSearchConfig.model_fields)
    threads = VocabSearchConfig(num_threads=2)  # changes the trained pieces: a different key
    assert VocabSearchStage(threads, corpus=_Corpus()).key != stage.key
    assert SpmTrainer(corpus, threads, tmp_path).root not in roots


class _Corpus(Stage):
    kind = "corpus"

    def run(self, ctx, inputs, out):
        write_corpus(out / "corpus.txt", lines=60, types=50)


def test_stage_writes_documented_files_and_caps_gracefully(tmp_path):
    cache = Cache(tmp_path / "cache")
    ctx = StageContext(cache=cache)
    corpus = _Corpus()
    cache.materialize(corpus, ctx)
    stage = VocabSearchStage(VocabSearchConfig(start=7000), corpus=corpus)
    artifact = cache.materialize(stage, ctx)
    search = json.loads((artifact / "search.json").read_text())
    assert {"size", "vocab_size", "alp", "delta", "alp_ahead", "trainings", "lookahead"} <= set(search)
    assert search["vocab_size"] == search["max_trainable"] < 7000
    processor = spm.SentencePieceProcessor(model_file=str(artifact / "spm.model"))
    assert processor.get_piece_size() == search["vocab_size"]
    assert (artifact / "spm.vocab").is_file()
    assert search["outcome_note"].startswith("the corpus is too small for the vocabulary search")
    assert search["outcome_note"] in search["notes"]
    # the corpus ended the search (max_trainable < max_size): a data shortfall for the run's line
    assert stage.summary(artifact) == {"vocab_size": search["vocab_size"],
                                       "shortfall": search["outcome_note"]}


def test_the_summary_says_a_shortfall_only_when_the_corpus_capped_the_search(tmp_path):
    stage = VocabSearchStage(VocabSearchConfig(max_size=10_000), corpus=_Corpus())
    for max_trainable, key in ((None, "note"), (9500, "shortfall")):
        search = {"vocab_size": 9500, "outcome_note": "capped", "max_trainable": max_trainable}
        (tmp_path / "search.json").write_text(json.dumps(search))
        assert stage.summary(tmp_path) == {"vocab_size": 9500, key: "capped"}
    (tmp_path / "search.json").write_text(json.dumps({"vocab_size": 7000, "outcome_note": None}))
    assert stage.summary(tmp_path) == {"vocab_size": 7000}


def test_a_search_that_reaches_max_size_without_meeting_the_threshold_says_so(caplog):
    steady = lambda v: v / 100  # noqa: E731 - Δ_s = 10 per step of 1000, never ≤ ε_s = 5
    config = VocabSearchConfig(start=7000, step=1000, max_size=10_000, threshold=5.0)
    outcome = search_vocab_size(curve_evaluator(steady)[0], config, lookahead=2)
    assert outcome.size == 10_000 and outcome.strategy == "linear"
    assert outcome.notes == [outcome.outcome_note] == [
        "the vocabulary search reached its cap max_size 10000 before any step changed ALP by at "
        "most ε_s = 5; the last step's Δ_s was 10.00: the size is the cap, not a size Algorithm 1 "
        "settled on; a larger vocab.max_size would let it go on"]
    assert outcome.notes[0] in caplog.text  # a warning in the run's log
    assert not any(is_shortfall(r) for r in caplog.records)
    caplog.clear()
    capped = search_vocab_size(curve_evaluator(steady, cap=9500)[0], config, lookahead=1)
    assert capped.size == 9500
    assert "the largest size this corpus can train (9500, below max_size 10000)" in capped.notes[-1]
    assert "more text would let it go on" in capped.notes[-1] == capped.outcome_note
    # the suite's cap is a plain warning; the corpus's own cap a data shortfall (one summary line)
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [is_shortfall(r) for r in warned] == [True] and warned[0].getMessage() == capped.outcome_note
    met = VocabSearchConfig(start=7000, step=1000, max_size=10_000, threshold=10.0)
    found = search_vocab_size(curve_evaluator(steady)[0], met, lookahead=1)
    assert found.notes == [] and found.outcome_note is None


def test_cli_smoke(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=100)
    result = CliRunner().invoke(vocab_search, [str(corpus), "--out", str(tmp_path / "out"),
                                               "--start", "60", "--step", "20", "--max", "200"])
    assert result.exit_code == 0, result.output
    search = json.loads((tmp_path / "out" / "search.json").read_text())
    assert f"vocabulary size {search['vocab_size']}" in result.output
    assert 60 <= search["vocab_size"] <= 200 and (tmp_path / "out" / "spm.model").is_file()
    assert "Example" in CliRunner().invoke(vocab_search, ["--help"]).output
