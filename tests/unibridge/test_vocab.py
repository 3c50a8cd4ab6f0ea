"""Stage 1 (Algorithm 1, Eq. 1): ALP by hand, fast search vs linear scan, cache, stage and CLI."""

import json
import math
import random
from collections import Counter

import pytest
import sentencepiece as spm
from click.testing import CliRunner

from harness.cli.vocab_search import vocab_search
from harness.graph import Cache, Stage, StageContext
from harness.unibridge.size_search import DELTA_NOISE
from harness.unibridge.vocab import (
    SpmTrainer,
    VocabSearchConfig,
    VocabSearchStage,
    VocabTooLargeError,
    VocabTooSmallError,
    average_log_probability,
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
    """A fake trainer: ALP from a formula, a corpus cap and floor, and the sizes asked for."""
    asked = []

    def evaluate(sizes):
        too_small = [s for s in sizes if floor is not None and s < floor]
        if too_small:
            raise VocabTooSmallError(too_small[0], floor)
        too_large = [s for s in sizes if cap is not None and s > cap]
        if too_large:
            raise VocabTooLargeError(too_large[0], cap)
        asked.extend(sizes)
        return {s: alp(s) for s in sizes}

    return evaluate, asked


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
}


@pytest.mark.parametrize("threshold", [5.0, 10.0, 15.0])
@pytest.mark.parametrize("cap", [None, 30_500, 6000])
@pytest.mark.parametrize("name", sorted(CURVES))
def test_bracketed_search_equals_algorithm1_on_monotone_curves(name, cap, threshold):
    config = VocabSearchConfig(threshold=threshold)
    expected = algorithm1(CURVES[name], config, cap)
    linear, _ = curve_evaluator(CURVES[name], cap)
    fast, _ = curve_evaluator(CURVES[name], cap)
    assert search_vocab_size(linear, config, fast=False).size == expected
    outcome = search_vocab_size(fast, config)
    assert outcome.size == expected and outcome.strategy in {"bracketed", "cap"}


def test_bracketed_search_evaluates_few_sizes():
    evaluate, asked = curve_evaluator(CURVES["power law"])
    assert search_vocab_size(evaluate, VocabSearchConfig()).size == 25_000  # Δ ≈ 120·1000/v ≤ 5
    assert len(set(asked)) <= 15  # the linear scan evaluates 19; the noise allowance costs the rest


def noisy(curve, seed, amplitude):
    """``curve`` plus a fixed uniform error in [−amplitude, amplitude] per size (seeded)."""
    errors = {}

    def alp(v):
        if v not in errors:
            errors[v] = random.Random(seed * 1_000_003 + v).uniform(-amplitude, amplitude)
        return curve(v) + errors[v]

    return alp


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("name", sorted(CURVES))
def test_bracketed_search_equals_algorithm1_on_noisy_curves(name, seed):
    config = VocabSearchConfig(threshold=[5.0, 10.0, 15.0][seed % 3])
    alp = noisy(CURVES[name], seed, amplitude=DELTA_NOISE / 2)  # Δ_s strays up to DELTA_NOISE
    evaluate, asked = curve_evaluator(alp)
    outcome = search_vocab_size(evaluate, config)
    assert outcome.size == algorithm1(alp, config)
    assert outcome.strategy in {"bracketed", "cap"}


def test_noisy_search_stays_cheap():
    alp = noisy(CURVES["power law"], seed=3, amplitude=DELTA_NOISE / 2)
    evaluate, asked = curve_evaluator(alp)
    assert search_vocab_size(evaluate, VocabSearchConfig()).size == algorithm1(alp, VocabSearchConfig())
    assert len(set(asked)) <= 15  # the linear scan evaluates about 19 sizes


@pytest.mark.parametrize("kink", [30_000, 45_000, 55_000])
def test_non_concave_alp_still_matches_algorithm1(kink):
    def alp(v):  # flattens, then Δ grows again above `kink` (convex there)
        return 100 * math.log(v) + 0.05 * max(0, v - kink)

    config = VocabSearchConfig()
    evaluate, _ = curve_evaluator(alp)
    assert search_vocab_size(evaluate, config).size == algorithm1(alp, config)


def test_fixed_size_bypasses_search_and_respects_cap():
    evaluate, _ = curve_evaluator(CURVES["power law"], cap=8000)
    assert search_vocab_size(evaluate, VocabSearchConfig(fixed_size=10_000)).size == 8000
    evaluate, asked = curve_evaluator(CURVES["power law"])
    assert search_vocab_size(evaluate, VocabSearchConfig(fixed_size=10_000)).size == 10_000
    assert asked == [10_000]
    evaluate, asked = curve_evaluator(CURVES["power law"], floor=12_345)
    assert search_vocab_size(evaluate, VocabSearchConfig(fixed_size=10_000)).size == 12_345
    assert asked == [12_345]


def test_real_sentencepiece_fast_equals_linear_and_cache_avoids_retraining(tmp_path):
    config = VocabSearchConfig(start=60, step=10, max_size=400, threshold=2.0, num_threads=1)
    for seed in (0, 1):
        corpus = write_corpus(tmp_path / f"c{seed}.txt", seed=seed)
        linear = SpmTrainer(corpus, config, tmp_path / f"linear{seed}")
        fast = SpmTrainer(corpus, config, tmp_path / f"fast{seed}")
        expected = search_vocab_size(linear.evaluate, config, fast=False)
        outcome = search_vocab_size(fast.evaluate, config)
        assert outcome.size == expected.size
        assert fast.trainings == len(outcome.alp) and linear.trainings == len(expected.alp)
        again = SpmTrainer(corpus, config, tmp_path / f"fast{seed}")
        assert search_vocab_size(again.evaluate, config).size == outcome.size
        assert again.trainings == 0


@pytest.mark.parametrize("floor", [7001, 9500, 12_000])
@pytest.mark.parametrize("fast", [True, False])
def test_sizes_below_the_corpus_floor_are_skipped(floor, fast):
    alp = CURVES["power law"]
    evaluate, asked = curve_evaluator(alp, floor=floor)
    config = VocabSearchConfig()
    outcome = search_vocab_size(evaluate, config, fast=fast)
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
    assert {"size", "vocab_size", "alp", "delta", "trainings"} <= set(search)
    assert search["vocab_size"] == search["max_trainable"] < 7000
    processor = spm.SentencePieceProcessor(model_file=str(artifact / "spm.model"))
    assert processor.get_piece_size() == search["vocab_size"]
    assert (artifact / "spm.vocab").is_file()
    assert stage.summary(artifact) == {"vocab_size": search["vocab_size"]}


def test_cli_smoke(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=100)
    result = CliRunner().invoke(vocab_search, [str(corpus), "--out", str(tmp_path / "out"),
                                               "--start", "60", "--step", "20", "--max", "200"])
    assert result.exit_code == 0, result.output
    search = json.loads((tmp_path / "out" / "search.json").read_text())
    assert f"vocabulary size {search['vocab_size']}" in result.output
    assert 60 <= search["vocab_size"] <= 200 and (tmp_path / "out" / "spm.model").is_file()
    assert "Example" in CliRunner().invoke(vocab_search, ["--help"]).output
