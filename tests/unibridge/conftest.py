"""Fixtures shared by the stage-2 tests."""

import random

import pytest
from tokenizers import SentencePieceUnigramTokenizer, processors
from transformers import XLMRobertaTokenizerFast

#: Source-language words of the stage-2 tests; the target corpora use a few of them.
SOURCE_WORDS = "the quick brown fox jumps over lazy dog привет мир собака 我们 学校 ሰላም".split()


@pytest.fixture(scope="session")
def source_tokenizer():
    """A 150-piece XLM-R-style unigram tokenizer trained on sentences of SOURCE_WORDS."""
    rng = random.Random(4)
    corpus = [" ".join(rng.choices(SOURCE_WORDS, k=rng.randint(3, 9))) + "." for _ in range(300)]
    model = SentencePieceUnigramTokenizer()
    model.train_from_iterator(corpus, vocab_size=150,
                              special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                              unk_token="<unk>", show_progress=False)
    backend = model._tokenizer
    backend.post_processor = processors.RobertaProcessing(sep=("</s>", 2), cls=("<s>", 0))
    return XLMRobertaTokenizerFast(tokenizer_object=backend)
