import pytest
from seqeval.metrics import f1_score

from harness.metrics import accuracy, entity_f1


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
