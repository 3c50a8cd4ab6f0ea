"""Predictions kept in an evaluation artifact: written, read back, scored again from the cache."""

import json

import numpy as np
import pytest

from harness.data.examples import SentencePair, TaggedSentence
from harness.stages.evaluation import METRICS_FILE, write_scores
from harness.tasks.predictions import example_ids, read_predictions, split_digest
from harness.tasks.specs import get_task
from tests.test_windows import fake_stage_world, one_token_per_word  # noqa: F401 (fixtures)

SENTENCES = [TaggedSentence(("Addis", "Ababa", "is"), ("B-LOC", "I-LOC", "O")),
             TaggedSentence(("Abebe",), ("B-PER",)), TaggedSentence(("x", "y"), ("O", "O"))]
PAIRS = [SentencePair("a", "b", 0), SentencePair("c", "d", 2), SentencePair("e", "f", 1)]


def test_ner_scores_predictions_and_counts_are_kept(tmp_path):
    task = get_task("ner")
    predicted = [["B-LOC", "I-LOC", "O"], ["B-ORG"], ["O", "B-PER"]]
    value = write_scores(tmp_path, task, SENTENCES, predicted, {"split": "test"})
    metrics = json.loads((tmp_path / METRICS_FILE).read_text())
    assert value == metrics["value"] == pytest.approx(100 * 2 * 1 / (2 * 1 + 2 + 1))
    assert metrics["details"]["per_example"] == {"tp": [1, 0, 0], "fp": [0, 1, 1], "fn": [0, 1, 0]}
    kept = read_predictions(tmp_path)
    assert kept.gold == task.gold(SENTENCES) and kept.predicted == predicted
    assert task.metric.score(kept.gold, kept.predicted) == value
    assert metrics["details"]["split_digest"] == split_digest(kept.example_ids)


def test_nli_and_one_word_sentences_read_back_in_their_shapes(tmp_path):
    nli = get_task("nli")
    (tmp_path / "nli").mkdir()
    (tmp_path / "pos").mkdir()
    write_scores(tmp_path / "nli", nli, PAIRS, ["entailment", "neutral", "neutral"], {})
    kept = read_predictions(tmp_path / "nli")
    assert kept.gold == ["entailment", "contradiction", "neutral"]
    assert kept.predicted == ["entailment", "neutral", "neutral"]
    one_word = [TaggedSentence(("a",), ("NOUN",)), TaggedSentence(("b",), ("VERB",))]
    write_scores(tmp_path / "pos", get_task("pos"), one_word, [["NOUN"], ["NOUN"]], {})
    assert read_predictions(tmp_path / "pos").predicted == [["NOUN"], ["NOUN"]]
    details = json.loads((tmp_path / "pos" / METRICS_FILE).read_text())["details"]
    assert details["per_example"] == {"correct": [1, 0], "total": [1, 1]}


def test_example_ids_follow_content_and_order():
    ids = example_ids(SENTENCES)
    assert ids.dtype == np.uint64 and len(set(ids.tolist())) == 3
    assert np.array_equal(example_ids(SENTENCES), ids)
    assert split_digest(example_ids(SENTENCES[::-1])) != split_digest(ids)
    changed = [TaggedSentence(("Addis", "Ababa", "is"), ("B-LOC", "I-LOC", "B-LOC")), *SENTENCES[1:]]
    assert example_ids(changed)[0] != ids[0] and example_ids(changed)[1] == ids[1]


def test_the_evaluation_stage_keeps_what_it_scored(tmp_path, fake_stage_world):  # noqa: F811
    """Through ModelEvaluationStage.run (model and data faked as in test_windows)."""
    from harness.core.graph import StageContext
    from harness.stages.evaluation import EvaluationConfig, ModelEvaluationStage

    config = EvaluationConfig.model_construct(task="ner", lang="amh", data=fake_stage_world.data,
                                              split="test", max_length=6, batch_size=2,
                                              label_subword="first")
    ModelEvaluationStage(config).run(StageContext(progress=False), {"model": tmp_path}, tmp_path)
    metrics = json.loads((tmp_path / METRICS_FILE).read_text())
    kept = read_predictions(tmp_path)
    assert len(kept.example_ids) == metrics["details"]["n_examples"] == 2
    assert get_task("ner").metric.score(kept.gold, kept.predicted) == metrics["value"]
    assert get_task("ner").metric.counts(kept.gold, kept.predicted) == metrics["details"]["per_example"]
    assert ModelEvaluationStage.version == 5
