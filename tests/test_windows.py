"""Long tagging sentences predicted in overlapping windows (harness.tasks.specs, ``overflow="window"``)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from tokenizers import SentencePieceUnigramTokenizer
from transformers import BertTokenizerFast, PreTrainedTokenizerFast

from harness.data.examples import SentencePair, TaggedSentence
from harness.stages.evaluation import predict_logits
from harness.tasks.specs import best_window, get_task, window_spans

WORDS = ["Addis", "Ababa", "is", "the", "capital", "of", "Ethiopia"]
TAGS = ["B-LOC", "I-LOC", "O", "O", "O", "O", "B-LOC"]
TEXT = ["Addis Ababa is the capital of Ethiopia", "Beijing is in China", "ሰላም ለዓለም Addis",
        "the river flows through the old city", "capital cities grow quickly"] * 4


def sentence(words, tags):
    return TaggedSentence(tokens=tuple(words), tags=tuple(tags))


@pytest.fixture(scope="module")
def one_token_per_word(tmp_path_factory):
    """WordPiece with every word of ``WORDS`` a single token: [CLS] w0 … w6 [SEP]."""
    path = tmp_path_factory.mktemp("wp") / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS))
    return BertTokenizerFast(vocab_file=str(path), do_lower_case=False)


@pytest.fixture(scope="module")
def unigram():
    """A trained SentencePiece unigram (no special tokens): most words are several subwords."""
    model = SentencePieceUnigramTokenizer()
    model.train_from_iterator(TEXT, vocab_size=60, special_tokens=["<pad>", "<unk>"], unk_token="<unk>")
    return PreTrainedTokenizerFast(tokenizer_object=model._tokenizer, pad_token="<pad>", unk_token="<unk>")


@pytest.fixture(scope="module")
def wordpiece(tmp_path_factory):
    """WordPiece with [CLS]/[SEP] where "Addis" and "Ababa" are two subwords each."""
    words = sorted({w for line in TEXT for w in line.split()} - {"Addis", "Ababa"})
    path = tmp_path_factory.mktemp("wp2") / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Add", "##is", "Ab", "##aba"]
                              + words))
    return BertTokenizerFast(vocab_file=str(path), do_lower_case=False)


def test_three_windows_by_hand(one_token_per_word):
    """max_length 6: [CLS] + 4 words + [SEP] per window, overlapping by 2 words.

    Full encoding: [CLS]=0, w0..w6 = 1..7, [SEP]=8. Content spans [1,5), [3,7), [5,8).
    Context min(left, right), the sentence's own ends uncut: w2 (3) 1 in window 0 vs 0 in
    window 1; w3 (4) 0 vs 1; w4 (5) 1 in window 1 vs 0 in window 2; w5 (6) 0 vs 1.
    """
    ner = get_task("ner")
    example = sentence(WORDS, TAGS)
    encoded = ner.encode([example], one_token_per_word, max_length=6, overflow="window")
    ids = one_token_per_word.convert_tokens_to_ids(WORDS)
    cls, sep = one_token_per_word.cls_token_id, one_token_per_word.sep_token_id
    assert [f["input_ids"] for f in encoded.features] == [
        [cls, *ids[0:4], sep], [cls, *ids[2:6], sep], [cls, *ids[4:7], sep]]
    assert encoded.word_features == [[0, 0, 0, 1, 1, 2, 2]]
    assert encoded.word_positions == [[1, 2, 3, 2, 3, 2, 3]]
    label = [ner.labels.index(tag) for tag in TAGS]
    assert [f["labels"] for f in encoded.features] == [
        [-100, label[0], label[1], label[2], -100, -100],
        [-100, -100, label[3], label[4], -100, -100],
        [-100, -100, label[5], label[6], -100]]
    assert encoded.window_details() == {"windowed_words": 3, "windowed_examples": 1}  # w4, w5, w6
    logits = [torch.nn.functional.one_hot(torch.tensor(f["labels"]).clamp(min=0), len(ner.labels)).float()
              for f in encoded.features]
    assert ner.predict(encoded, logits) == [TAGS]  # every word predicted, none fallback


def test_window_rule_helpers():
    assert window_spans(1, 8, 4) == [(1, 5), (3, 7), (5, 8)]
    assert window_spans(0, 5, 5) == [(0, 5)]
    assert window_spans(0, 4, 1) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert window_spans(0, 7, 3) == [(0, 3), (2, 5), (4, 7)]
    spans = [(1, 5), (3, 7), (5, 8)]
    assert [best_window(p, spans) for p in range(1, 8)] == [0, 0, 0, 1, 1, 2, 2]
    assert best_window(0, spans) == -1
    with pytest.raises(ValueError, match="no room"):
        window_spans(1, 8, 0)


class TokenModel(torch.nn.Module):
    """Logits a fixed function of each token and the token before it (a context of one)."""

    def __init__(self, n_labels: int, vocab: int = 512):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.own = torch.randn(vocab, n_labels, generator=generator)
        self.previous = torch.randn(vocab, n_labels, generator=generator)
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None):
        previous = torch.cat([input_ids[:, :1], input_ids[:, :-1]], dim=1)
        return SimpleNamespace(logits=self.own[input_ids] + 0.5 * self.previous[previous])


def long_sentences():
    words = " ".join(TEXT[:5]).split()
    tags = [get_task("ner").labels[i % 7] for i in range(len(words))]
    return [sentence(words, tags), sentence(words[:3], tags[:3]), sentence(["is"], ["O"]),
            sentence(words[5:], tags[5:])]


@pytest.mark.parametrize("tokenizer_name", ["unigram", "wordpiece"])
@pytest.mark.parametrize("subword", ["first", "last"])
@pytest.mark.parametrize("max_length", [6, 9, 16])
def test_windowed_predictions_equal_unwindowed(request, tokenizer_name, subword, max_length):
    """Independent reference: the same model on the whole sentence (max_length 512)."""
    tokenizer, ner = request.getfixturevalue(tokenizer_name), get_task("ner")
    model, collator = TokenModel(len(ner.labels)), ner.collator(tokenizer)
    examples = long_sentences()

    def predictions(length, overflow):
        encoded = ner.encode(examples, tokenizer, length, subword, overflow=overflow)
        return encoded, ner.predict(encoded, predict_logits(model, collator, encoded.features, 4))

    reference_encoded, reference = predictions(512, "truncate")
    assert all(p >= 0 for positions in reference_encoded.word_positions for p in positions)
    encoded, windowed = predictions(max_length, "window")
    assert windowed == reference
    assert all(len(f["input_ids"]) <= max_length for f in encoded.features)
    truncated, _ = predictions(max_length, "truncate")
    lost = [sum(p < 0 for p in positions) for positions in truncated.word_positions]
    assert encoded.windowed_words >= sum(lost) > 0
    too_long = [len(tokenizer(" ".join(ex.tokens))["input_ids"]) > max_length for ex in examples]
    assert sum(map(bool, lost)) <= encoded.windowed_examples <= sum(too_long) < len(examples)


@pytest.mark.parametrize("tokenizer_name", ["unigram", "wordpiece"])
@pytest.mark.parametrize("subword", ["first", "last"])
def test_examples_that_fit_are_encoded_as_before(request, tokenizer_name, subword):
    tokenizer, ner = request.getfixturevalue(tokenizer_name), get_task("ner")
    examples = [sentence(WORDS, TAGS), sentence(["Beijing", "is"], ["B-LOC", "O"])]
    before = ner.encode(examples, tokenizer, 128, subword)
    after = ner.encode(examples, tokenizer, 128, subword, overflow="window")
    assert after == before
    assert after.window_details() == {"windowed_words": 0, "windowed_examples": 0}
    assert after.word_features == [[0] * 7, [1, 1]]


def test_pair_tasks_truncate_either_way(one_token_per_word):
    nli = get_task("nli")
    pair = [SentencePair(" ".join(WORDS), " ".join(WORDS), 1)]
    windowed = nli.encode(pair, one_token_per_word, max_length=6, overflow="window")
    assert windowed == nli.encode(pair, one_token_per_word, max_length=6)
    assert len(windowed.features) == 1 and len(windowed.features[0]["input_ids"]) == 6
    with pytest.raises(ValueError, match="overflow"):
        nli.encode(pair, one_token_per_word, overflow="slide")


def test_validation_scoring_reads_windows(one_token_per_word):
    """Model selection's compute_metrics on Trainer-padded per-window logits."""
    from harness.stages.finetune import score_function
    from harness.tasks.specs import overflow_for

    ner = get_task("ner")
    examples = [sentence(WORDS, TAGS), sentence(WORDS[:2], TAGS[:2])]
    encoded = ner.encode(examples, one_token_per_word, 6, overflow=overflow_for("validation"))
    assert overflow_for("train") == "truncate" and len(encoded.features) == 4
    padded = np.full((4, 6, len(ner.labels)), -100.0, dtype=np.float32)
    for row, feature in zip(padded, encoded.features):
        labels = torch.tensor(feature["labels"]).clamp(min=0)
        row[: len(labels)] = torch.nn.functional.one_hot(labels, len(ner.labels)).numpy()
    score = score_function(ner, examples, encoded)(SimpleNamespace(predictions=padded))
    assert score == {"score": 100.0}


# ---------------------------------------------------------------- both evaluation stages


@pytest.fixture
def fake_stage_world(monkeypatch, one_token_per_word):
    """The stages' loaders replaced: the tokenizer above, a TokenModel, two sentences."""
    import transformers

    from harness.stages import evaluation
    from harness.tasks.specs import TaskSpec

    ner = get_task("ner")
    examples = [sentence(WORDS, TAGS), sentence(WORDS[:2], TAGS[:2])]
    monkeypatch.setattr(TaskSpec, "load", lambda self, source, lang, split: examples)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained",
                        lambda path: one_token_per_word)
    monkeypatch.setattr(evaluation, "load_finetuned", lambda path: TokenModel(len(ner.labels)))
    return SimpleNamespace(data=SimpleNamespace(source=None, fingerprint="x"))


def read_details(out):
    return json.loads((out / "metrics.json").read_text())["details"]


def test_model_evaluation_records_windowed_words(tmp_path, fake_stage_world):
    from harness.core.graph import StageContext
    from harness.stages.evaluation import EvaluationConfig, ModelEvaluationStage

    config = EvaluationConfig.model_construct(task="ner", lang="amh", data=fake_stage_world.data,
                                              split="test", max_length=6, batch_size=2,
                                              label_subword="first")
    ModelEvaluationStage(config).run(StageContext(progress=False), {"model": tmp_path}, tmp_path)
    details = read_details(tmp_path)
    assert details["windowed_words"] == 3 and details["windowed_examples"] == 1
    assert ModelEvaluationStage.version >= 4


def test_multi_source_evaluation_records_windowed_words(tmp_path, monkeypatch, fake_stage_world,
                                                        one_token_per_word):
    from harness.core.graph import StageContext
    from harness.methods.unibridge import inference, weighted_heads
    from harness.methods.unibridge.inference import (
        InferenceConfig,
        MultiSourceConfig,
        MultiSourceEvaluationStage,
    )

    n_labels = len(get_task("ner").labels)

    class FakeHeads(TokenModel):
        def __init__(self, model, target, weights, max_rows=None):
            super().__init__(n_labels)
            self.examples_per_pass = 2

    monkeypatch.setattr(weighted_heads, "WeightedHeads", FakeHeads)
    monkeypatch.setattr(inference, "activate_language", lambda model, name: None)
    monkeypatch.setattr(MultiSourceEvaluationStage, "_load",
                        lambda self, inputs: (torch.nn.Linear(1, 1), {"target": one_token_per_word}))
    config = MultiSourceConfig.model_construct(
        task="ner", lang="amh", sources=("eng",), split="test", data=fake_stage_world.data,
        inference=InferenceConfig(max_length=6, weighting="uniform"), label_subword="first")
    MultiSourceEvaluationStage(config).run(StageContext(progress=False), {}, tmp_path)
    details = read_details(tmp_path)
    assert details["windowed_words"] == 3 and details["windowed_examples"] == 1
    assert MultiSourceEvaluationStage.version >= 4
