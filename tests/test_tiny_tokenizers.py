import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.models.tiny_tokenizers import BERT_SPECIALS, train_tiny_tokenizer, wordpiece_vocabulary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "monolingual"
_VOCAB_OF = """
import json, sys
from harness.models.tiny_tokenizers import train_tiny_tokenizer
lines = [l for l in open(sys.argv[2], encoding="utf-8").read().splitlines() if l.strip()][:200]
print(json.dumps(sorted(train_tiny_tokenizer(sys.argv[1], lines, 800).get_vocab().items())))
"""


def vocab_in_fresh_process(arch: str, corpus: Path) -> list:
    out = subprocess.run([sys.executable, "-c", _VOCAB_OF, arch, str(corpus)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("arch", ["xlmr", "bert", "gpt2", "mbart"])
def test_same_corpus_gives_the_same_ids_in_every_process(arch):
    # hash-map order is seeded per process: only separate processes can show a difference
    corpus = FIXTURES / "rus.txt"
    first, second = vocab_in_fresh_process(arch, corpus), vocab_in_fresh_process(arch, corpus)
    assert len(first) > 100
    assert first == second


def test_wordpiece_vocabulary_by_hand():
    pieces = ["\u2581", "a", "b", "\u2581ab", "b", "ba", "\u2581b"]
    assert wordpiece_vocabulary(pieces, 100) == BERT_SPECIALS + [
        "a", "b", "##a", "##b", "ab", "##ba"]


def test_wordpiece_vocabulary_is_cut_but_keeps_every_character():
    pieces = ["\u2581xy", "x", "y", "z"]
    vocab = wordpiece_vocabulary(pieces, 8)
    assert vocab == BERT_SPECIALS + ["x", "y", "z", "##x", "##y", "##z"]  # characters beat the cut
    assert len(wordpiece_vocabulary(pieces, 12)) == 12  # ... then pieces fill it: "xy"


@pytest.mark.parametrize("arch", ["xlmr", "bert", "mbart"])
def test_small_size_rises_to_the_corpus_characters(arch):
    corpus = ["абвгдеёжзийклмнопрстуфхцчшщъыьэюя " * 2] * 5
    tokenizer = train_tiny_tokenizer(arch, corpus, 10)
    ids = tokenizer("где мы")["input_ids"]
    assert tokenizer.unk_token_id not in ids
