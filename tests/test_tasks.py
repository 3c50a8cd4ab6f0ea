import pytest
import torch
from tokenizers import SentencePieceUnigramTokenizer
from transformers import BertTokenizerFast, PreTrainedTokenizerFast

from harness.data.examples import SentencePair, TaggedSentence
from harness.tasks.specs import TASKS, get_task

TEXT = ["Addis Ababa is the capital of Ethiopia", "Beijing is in China", "ሰላም ለዓለም Addis",
        "the river flows through the old city", "capital cities grow quickly"] * 4


@pytest.fixture(scope="module")
def wordpiece(tmp_path_factory):
    words = sorted({w for line in TEXT for w in line.split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Add", "##is", "Ab", "##aba"] + words
    path = tmp_path_factory.mktemp("wp") / "vocab.txt"
    path.write_text("\n".join(dict.fromkeys(vocab)))
    return BertTokenizerFast(vocab_file=str(path), do_lower_case=False)


@pytest.fixture(scope="module")
def unigram():
    model = SentencePieceUnigramTokenizer()
    model.train_from_iterator(TEXT, vocab_size=60, special_tokens=["<pad>", "<unk>", "<s>", "</s>"],
                              unk_token="<unk>")
    return PreTrainedTokenizerFast(tokenizer_object=model._tokenizer, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>")


def sentence(words, tags):
    return TaggedSentence(tokens=tuple(words), tags=tuple(tags))


@pytest.mark.parametrize("tokenizer_name", ["wordpiece", "unigram"])
def test_first_subword_alignment_matches_library_word_ids(request, tokenizer_name):
    tokenizer = request.getfixturevalue(tokenizer_name)
    example = sentence(["Addis", "Ababa", "is", "ሰላም"], ["B-LOC", "I-LOC", "O", "O"])
    encoded = get_task("ner").encode([example], tokenizer)
    reference = tokenizer(list(example.tokens), is_split_into_words=True).word_ids()
    first = {}
    for position, word in enumerate(reference):
        if word is not None:
            first.setdefault(word, position)
    assert encoded.word_positions[0] == [first[i] for i in range(4)]
    labels = encoded.features[0]["labels"]
    ner = get_task("ner")
    assert [labels[p] for p in encoded.word_positions[0]] == [ner.labels.index(t) for t in example.tags]
    assert sum(label != -100 for label in labels) == 4


def test_truncated_words_get_fallback_label(wordpiece):
    ner = get_task("ner")
    example = sentence(["Beijing"] * 10, ["B-LOC"] * 10)
    encoded = ner.encode([example], wordpiece, max_length=5)  # [CLS] + 3 words + [SEP]
    positions = encoded.word_positions[0]
    assert positions[:3] == [1, 2, 3] and positions[3:] == [-1] * 7
    logits = torch.zeros(5, len(ner.labels))
    logits[:, ner.labels.index("B-LOC")] = 1.0
    assert ner.predict(encoded, [logits])[0] == ["B-LOC"] * 3 + ["O"] * 7


def test_pos_fallback_is_x():
    assert get_task("pos").labels[get_task("pos").fallback_label] == "X"


def test_pair_task_encodes_both_sentences_and_scores(wordpiece):
    nli = get_task("nli")
    examples = [SentencePair("Beijing is in China", "China", 0), SentencePair("the city", "river", 2)]
    encoded = nli.encode(examples, wordpiece)
    assert [f["labels"] for f in encoded.features] == [0, 2]
    assert encoded.features[0]["input_ids"].count(wordpiece.sep_token_id) == 2
    logits = [torch.tensor([2.0, 0.0, 1.0]), torch.tensor([0.0, 3.0, 1.0])]
    predictions = nli.predict(encoded, logits)
    assert predictions == ["entailment", "neutral"]
    assert nli.score(examples, predictions) == 50.0


def test_registered_tasks():
    assert TASKS.names() == ["ner", "nli", "pos"]
    assert get_task("ner").metric_name == "f1" and get_task("pos").metric_name == "accuracy"


# ---------------------------------------------------------------- first or last subword

def causal_sentencepiece():
    """A SentencePiece-style tokenizer that splits an unknown-script word into a bare ▁ + letters.

    Hand-built vocabulary, no special tokens (as the GPT-2 family adds none): "ሰላም the city"
    is ▁ ሰ ላ ም ▁the ▁ci ty, so the Amharic word starts with a bare ▁.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    pieces = ["<pad>", "<unk>", "▁", "ሰ", "ላ", "ም", "▁the", "▁ci", "ty"]
    backend = Tokenizer(models.Unigram([(piece, -1.0) for piece in pieces], unk_id=1))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>")


def test_causal_example_labels_the_last_subword_by_hand():
    tokenizer = causal_sentencepiece()
    example = sentence(["ሰላም", "the", "city"], ["B-LOC", "O", "B-ORG"])
    assert tokenizer.convert_ids_to_tokens(tokenizer("ሰላም the city")["input_ids"]) == [
        "▁", "ሰ", "ላ", "ም", "▁the", "▁ci", "ty"]
    ner = get_task("ner")
    first = ner.encode([example], tokenizer, subword="first")
    last = ner.encode([example], tokenizer, subword="last")
    assert first.word_positions == [[0, 4, 5]]     # ሰላም labelled at the bare ▁
    assert last.word_positions == [[3, 4, 6]]      # … and at ም, having read the whole word
    ids = [ner.labels.index(tag) for tag in example.tags]
    assert last.features[0]["labels"] == [-100, -100, -100, ids[0], ids[1], -100, ids[2]]


def test_encoder_example_labels_the_first_subword_by_hand(tmp_path):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Add", "##is", "Ab", "##aba", "is"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab))
    wordpiece = BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt"), do_lower_case=False)
    example = sentence(["Addis", "Ababa", "is"], ["B-LOC", "I-LOC", "O"])
    assert wordpiece.convert_ids_to_tokens(wordpiece("Addis Ababa is")["input_ids"]) == [
        "[CLS]", "Add", "##is", "Ab", "##aba", "is", "[SEP]"]
    ner = get_task("ner")
    assert ner.encode([example], wordpiece).word_positions == [[1, 3, 5]]  # default: first
    assert ner.encode([example], wordpiece, subword="last").word_positions == [[2, 4, 5]]


@pytest.mark.parametrize("subword", ["first", "last"])
def test_predictions_are_read_where_the_labels_were_put(subword):
    """Logits that are right exactly at labelled positions and wrong everywhere else."""
    tokenizer, ner = causal_sentencepiece(), get_task("ner")
    examples = [sentence(["ሰላም", "the", "city"], ["B-LOC", "O", "B-ORG"]),
                sentence(["city", "ሰላም"], ["I-ORG", "B-PER"])]
    encoded = ner.encode(examples, tokenizer, subword=subword)
    wrong = ner.labels.index("I-PER")
    logits = []
    for feature in encoded.features:
        rows = torch.zeros(len(feature["input_ids"]), len(ner.labels))
        for position, label in enumerate(feature["labels"]):
            rows[position, wrong if label == -100 else label] = 1.0
        logits.append(rows)
    assert ner.predict(encoded, logits) == [list(ex.tags) for ex in examples]


def test_label_subword_resolves_auto_by_backbone_family():
    from harness.models.backbones import BACKBONES
    from harness.tasks.specs import label_subword

    assert [name for name in BACKBONES.names() if BACKBONES.get(name).causal] == ["mgpt", "tiny-mgpt"]
    assert label_subword("auto", causal=True) == "last"
    assert label_subword("auto", causal=False) == "first"
    assert label_subword("first", causal=True) == "first"
    assert label_subword("last", causal=False) == "last"
    with pytest.raises(ValueError):
        label_subword("middle", causal=True)
    with pytest.raises(ValueError):
        get_task("ner").encode([sentence(["city"], ["O"])], causal_sentencepiece(), subword="auto")


@pytest.mark.parametrize("choice, mgpt, xlmr", [("auto", "last", "first"), ("first", "first", "first"),
                                                ("last", "last", "last")])
def test_suite_option_reaches_training_and_scoring_stages(choice, mgpt, xlmr):
    from pathlib import Path

    from harness.planning.plan import prepare
    from harness.suite.schema import load_suite

    suite = load_suite(Path(__file__).parents[1] / "suites" / "smoke.yaml")
    ner = suite.tasks["ner"].model_copy(update={"label_subword": choice})
    plan = prepare(suite.model_copy(update={"tasks": {"ner": ner}}), check_data=False)
    for job in plan.jobs:
        if job.method not in ("unibridge", "zero_shot"):
            continue
        final = plan.build(job)
        training = [stage for name, stage in final.inputs.items() if name.startswith("task_")]
        training = training or [final.inputs["model"]]
        expected = {"tiny-mgpt": mgpt, "tiny-xlmr": xlmr}.get(job.backbone, xlmr)
        assert final.config.label_subword == expected
        assert {stage.config.label_subword for stage in training} == {expected}
