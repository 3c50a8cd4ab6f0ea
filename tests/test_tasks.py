import pytest
import torch
from tokenizers import SentencePieceUnigramTokenizer
from transformers import BertTokenizerFast, PreTrainedTokenizerFast

from harness.data.examples import SentencePair, TaggedSentence
from harness.tasks import TASKS, get_task

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
