import pytest
from seqeval.metrics import f1_score

from harness.tasks.metrics import accuracy, entity_f1


def test_entity_f1_hand_worked():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"]]
    # 3 gold entities, 3 predicted, 2 correct: P = R = 2/3 -> F1 = 66.67
    assert entity_f1(gold, pred) == pytest.approx(200 / 3)
    assert entity_f1(gold, pred) == pytest.approx(100 * f1_score(gold, pred))


def test_entity_f1_boundary_error_counts_as_wrong():
    assert entity_f1([["B-LOC", "I-LOC"]], [["B-LOC", "O"]]) == 0.0


def test_accuracy_flattens_word_sequences():
    assert accuracy([["NOUN", "VERB"], ["DET"]], [["NOUN", "NOUN"], ["DET"]]) == pytest.approx(200 / 3)
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 75.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 gold items but 1 predictions"):
        accuracy([1, 2], [1])


# --- per-example counts ---------------------------------------------------------------------------

def _random_tags(rng, n_sentences):
    from harness.data.examples import NER_LABELS

    return [[NER_LABELS[i] for i in rng.integers(0, len(NER_LABELS), rng.integers(1, 12))]
            for _ in range(n_sentences)]


def test_summed_entity_counts_give_seqeval_f1_on_random_sequences():
    """Per-sentence tp/fp/fn summed give seqeval's corpus F1 (ill-formed IOB2 included)."""
    import numpy as np

    from harness.tasks.metrics import entity_counts, f1_from_sums

    rng = np.random.default_rng(3)
    for _ in range(20):
        gold = _random_tags(rng, 15)
        predicted = [[tag if rng.random() < 0.6 else "O" for tag in s] for s in gold]
        predicted = [s if rng.random() < 0.7 else _random_tags(rng, 1)[0][:len(s)] + ["O"] * (len(s) - 1)
                     for s in predicted]
        predicted = [p[:len(g)] + ["O"] * (len(g) - len(p)) for g, p in zip(gold, predicted)]
        counts = entity_counts(gold, predicted)
        sums = np.array([sum(counts["tp"]), sum(counts["fp"]), sum(counts["fn"])])
        assert float(f1_from_sums(sums)) == pytest.approx(100 * f1_score(gold, predicted))


def test_entity_counts_hand_worked():
    from harness.tasks.metrics import entity_counts

    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"], ["O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["O", "O"], ["B-LOC"]]
    assert entity_counts(gold, pred) == {"tp": [1, 0, 0], "fp": [1, 0, 1], "fn": [1, 1, 0]}


def test_accuracy_counts_per_sentence_and_per_example():
    import numpy as np

    from harness.tasks.metrics import get_metric

    metric = get_metric("accuracy")
    tagged = metric.counts([["NOUN", "VERB"], ["DET"]], [["NOUN", "NOUN"], ["DET"]])
    assert tagged == {"correct": [1, 1], "total": [2, 1]}
    assert float(metric.from_sums(np.array([2, 3]))) == pytest.approx(200 / 3)
    assert metric.counts(["entailment", "neutral", "neutral"], ["entailment", "neutral", "entailment"]) == {
        "correct": [1, 1, 0]}


def test_f1_of_nothing_found_and_nothing_true_is_zero():
    import numpy as np

    from harness.tasks.metrics import f1_from_sums

    assert f1_from_sums(np.array([[0, 0, 0], [1, 1, 0]])).tolist() == [0.0, pytest.approx(200 / 3)]
