"""Intervals, paired tests and Holm's correction against independent computations."""

import itertools

import numpy as np
import pytest
from scipy import stats

from harness.run.records import ResultRecord
from harness.statistics.bootstrap import (
    cell_seed,
    estimate_cell,
    estimate_cells,
    estimate_mean,
    resample_weights,
)
from harness.statistics.config import StatisticsConfig
from harness.statistics.counts import Sample, seed_counts
from harness.statistics.multiple import holm
from harness.statistics.paired import approximate_randomisation, randomisation_tests
from harness.tasks.metrics import get_metric

F1, ACCURACY = get_metric("f1"), get_metric("accuracy")


def ner_counts(rng, n, skill=0.6):
    """Synthetic per-sentence tp/fp/fn: 0–3 entities per sentence, each found with ``skill``."""
    entities = rng.integers(0, 4, n)
    tp = rng.binomial(entities, skill)
    fp = rng.binomial(2, 0.2, n)
    return np.stack([tp, fp, entities - tp], axis=1).astype(float)


def sample_of(*seeds, metric=F1, digest="d"):
    return Sample(metric, np.stack(seeds), digest)


def test_ner_interval_matches_scipy_percentile_bootstrap():
    counts = ner_counts(np.random.default_rng(1), 300)
    ours = estimate_cell(sample_of(counts), resample_weights(300, 20_000, 7))

    def f1(tp, fp, fn, axis=-1):
        return F1.from_sums(np.stack([tp.sum(axis), fp.sum(axis), fn.sum(axis)], axis=-1))

    ref = stats.bootstrap(tuple(counts.T), f1, paired=True, vectorized=True, n_resamples=20_000,
                          method="percentile", random_state=np.random.default_rng(2)).confidence_interval
    assert ours.mean == pytest.approx(float(f1(*counts.T)))
    assert ours.low == pytest.approx(ref.low, abs=0.35) and ours.high == pytest.approx(ref.high, abs=0.35)
    assert ours.high - ours.low > 5  # 300 sentences: several points wide


def test_accuracy_interval_on_large_n_matches_the_wilson_interval():
    rng = np.random.default_rng(4)
    correct = (rng.random(5000) < 0.71).astype(float)
    counts = np.stack([correct, np.ones_like(correct)], axis=1)
    ours = estimate_cell(sample_of(counts, metric=ACCURACY), resample_weights(5000, 4000, 3))
    wilson = stats.binomtest(int(correct.sum()), 5000).proportion_ci(0.95, method="wilson")
    assert ours.low == pytest.approx(100 * wilson.low, abs=0.15)
    assert ours.high == pytest.approx(100 * wilson.high, abs=0.15)


def test_pos_interval_resamples_sentences_not_words():
    """Words of one sentence move together: the interval matches scipy's over sentences."""
    rng = np.random.default_rng(5)
    total = rng.integers(1, 30, 200).astype(float)
    correct = rng.binomial(total.astype(int), rng.uniform(0.3, 1.0, 200)).astype(float)
    ours = estimate_cell(sample_of(np.stack([correct, total], 1), metric=ACCURACY),
                         resample_weights(200, 20_000, 9))
    ref = stats.bootstrap((correct, total), lambda c, t, axis=-1: 100 * c.sum(axis) / t.sum(axis),
                          paired=True, vectorized=True, n_resamples=20_000, method="percentile",
                          random_state=np.random.default_rng(0)).confidence_interval
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), abs=0.3)


def test_same_seed_same_interval_and_seeds_per_language_differ():
    counts = ner_counts(np.random.default_rng(6), 120)
    first = estimate_cell(sample_of(counts), resample_weights(120, 1000, cell_seed(0, "ner", "amh")))
    again = estimate_cell(sample_of(counts), resample_weights(120, 1000, cell_seed(0, "ner", "amh")))
    other = estimate_cell(sample_of(counts), resample_weights(120, 1000, cell_seed(0, "ner", "ang")))
    assert (first.low, first.high) == (again.low, again.high)
    assert (first.low, first.high) != (other.low, other.high)
    weights = resample_weights(120, 50, 1)
    assert weights.shape == (50, 120) and set(weights.sum(axis=1)) == {120.0}


def test_several_seeds_mean_spread_and_interval_of_the_mean():
    rng = np.random.default_rng(8)
    seeds = [ner_counts(rng, 150, skill) for skill in (0.5, 0.6, 0.7)]
    sample = sample_of(*seeds)
    values = [float(F1.from_sums(s.sum(0))) for s in seeds]
    weights = resample_weights(150, 2000, 2)
    estimate = estimate_cell(sample, weights)
    assert estimate.mean == pytest.approx(np.mean(values))
    assert estimate.spread == pytest.approx(np.std(values, ddof=1))
    per_seed = [estimate_cell(sample_of(s), weights).replicates for s in seeds]
    assert estimate.replicates == pytest.approx(np.mean(per_seed, axis=0))
    assert estimate.low < estimate.mean < estimate.high
    assert estimate_cell(sample_of(seeds[0]), weights).spread is None


def test_interval_of_an_average_over_languages_is_narrower_than_each():
    rng = np.random.default_rng(10)
    cells = [estimate_cell(sample_of(ner_counts(rng, 100)), resample_weights(100, 2000, s)) for s in range(4)]
    low, high = estimate_mean(cells)
    assert high - low < min(c.high - c.low for c in cells)
    assert low < np.mean([c.mean for c in cells]) < high


# --- paired test --------------------------------------------------------------------------------

def exact_permutation_p(a, b, metric):
    """Every one of the 2ⁿ swaps of the two methods' outputs, enumerated by hand."""
    def value(rows):
        return float(metric.from_sums(np.sum(rows, axis=0)))

    observed = abs(value(a) - value(b))
    reached = 0
    for swaps in itertools.product((False, True), repeat=len(a)):
        new_a = [y if s else x for x, y, s in zip(a, b, swaps)]
        new_b = [x if s else y for x, y, s in zip(a, b, swaps)]
        reached += abs(value(new_a) - value(new_b)) >= observed - 1e-9
    return reached / 2 ** len(a)


@pytest.mark.parametrize("metric, a, b", [
    (F1, [[2, 0, 0], [1, 1, 0], [3, 0, 0], [0, 0, 1], [1, 0, 0], [2, 1, 0], [1, 0, 1], [2, 0, 0]],
         [[1, 0, 1], [0, 1, 1], [2, 1, 1], [0, 1, 1], [1, 0, 0], [1, 1, 1], [0, 0, 2], [1, 1, 1]]),
    (ACCURACY, [[1, 1], [1, 1], [1, 1], [0, 1], [1, 1], [1, 1], [1, 1], [0, 1], [1, 1]],
               [[0, 1], [1, 1], [0, 1], [0, 1], [0, 1], [1, 1], [0, 1], [1, 1], [0, 1]]),
])
def test_approximate_randomisation_converges_to_the_exact_permutation_test(metric, a, b):
    exact = exact_permutation_p(np.array(a, float), np.array(b, float), metric)
    result = approximate_randomisation(sample_of(np.array(a, float), metric=metric),
                                       sample_of(np.array(b, float), metric=metric), rounds=40_000, seed=3)
    assert 0.0 < exact < 0.5
    assert result.p_value == pytest.approx(exact, abs=0.01)
    assert result.difference > 0


def test_identical_methods_are_not_significant_and_a_large_gap_is():
    rng = np.random.default_rng(11)
    good, weak = ner_counts(rng, 200, 0.8), ner_counts(rng, 200, 0.3)
    assert approximate_randomisation(sample_of(good), sample_of(good), 2000).p_value == 1.0
    result = approximate_randomisation(sample_of(good), sample_of(weak), 2000)
    assert result.p_value == pytest.approx(1 / 2001)


def test_paired_test_refuses_different_test_examples():
    counts = ner_counts(np.random.default_rng(0), 10)
    with pytest.raises(ValueError, match="same test examples"):
        approximate_randomisation(sample_of(counts, digest="a"), sample_of(counts, digest="b"), 10)


# --- Holm ---------------------------------------------------------------------------------------

def test_holm_hand_worked_and_against_the_step_down_procedure():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    rng = np.random.default_rng(12)
    for _ in range(200):
        p = rng.uniform(0, 0.1, rng.integers(1, 8)).tolist()
        order = sorted(range(len(p)), key=p.__getitem__)
        rejected = set()
        for rank, i in enumerate(order):  # Holm's procedure as stated: stop at the first acceptance
            if p[i] > 0.05 / (len(p) - rank):
                break
            rejected.add(i)
        assert {i for i, q in enumerate(holm(p)) if q <= 0.05} == rejected


# --- records ------------------------------------------------------------------------------------

def ner_record(seed, counts, digest="abc"):
    per_example = {"tp": counts[:, 0].tolist(), "fp": counts[:, 1].tolist(), "fn": counts[:, 2].tolist()}
    return ResultRecord(method="unibridge", backbone="b", task="ner", lang="amh", seed=seed, metric="f1",
                        value=float(F1.from_sums(counts.sum(0))), config_hash="x",
                        details={"per_example": per_example, "split_digest": digest})


def test_seed_counts_stacks_records_and_refuses_mixed_splits():
    rng = np.random.default_rng(13)
    records = [ner_record(s, ner_counts(rng, 20)) for s in (1, 2)]
    sample = seed_counts(records)
    assert sample.counts.shape == (2, 20, 3)
    assert sample.values() == pytest.approx([r.value for r in records])
    nli = ResultRecord(method="m", backbone="b", task="nli", lang="aym", seed=1, metric="accuracy", value=50,
                       config_hash="x", details={"per_example": {"correct": [1, 0]}, "split_digest": "q"})
    assert seed_counts([nli]).counts.tolist() == [[[1, 1], [0, 1]]]
    assert seed_counts([records[0].model_copy(update={"details": {}})]) is None
    with pytest.raises(ValueError, match="not scored on the same test examples"):
        seed_counts([records[0], ner_record(3, ner_counts(rng, 20), digest="other")])


def test_config_refuses_meaningless_values():
    with pytest.raises(ValueError, match="samples"):
        StatisticsConfig(samples=0)
    with pytest.raises(ValueError, match="level"):
        StatisticsConfig(level=1.5)


def test_batched_tests_of_one_test_set_equal_the_tests_one_by_one():
    rng = np.random.default_rng(14)
    reference = sample_of(ner_counts(rng, 60, 0.6))
    others = [sample_of(ner_counts(rng, 60, skill)) for skill in (0.4, 0.55, 0.6)]
    together = randomisation_tests([(reference, o) for o in others], 3000, seed=5)
    alone = [approximate_randomisation(reference, o, 3000, seed=5) for o in others]
    assert together == alone
    weights = resample_weights(60, 500, 1)
    batch = estimate_cells([reference, *others], weights)
    assert [e.replicates.tolist() for e in batch] == [
        estimate_cell(s, weights).replicates.tolist() for s in (reference, *others)]
