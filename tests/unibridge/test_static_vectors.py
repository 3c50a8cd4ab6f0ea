"""FastText vectors of stage 2 against fastText itself: which tokens, which vectors, reproducibility."""

import json
import random
import subprocess
import sys

import numpy as np
import torch

from harness.methods.unibridge.embeddings import EmbeddingInitConfig
from harness.methods.unibridge.static_vectors import train_static_vectors

TARGET_WORDS = "ሰላም ዓለም ይህ the fox dog".split()
TINY = EmbeddingInitConfig(fasttext_dim=8, fasttext_epochs=1)


def sentences(words, n, seed):
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(3, 9))) + "." for _ in range(n)]


CORPUS = sentences(TARGET_WORDS, 200, seed=3)  # most source tokens never occur in it


def token_counts(source_tokenizer, corpus):
    counts = {}
    for ids in source_tokenizer(corpus, add_special_tokens=False)["input_ids"]:
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
    return counts


def test_rare_tokens_random_covers_tokens_seen_min_count_times(tmp_path, source_tokenizer):
    config = TINY.model_copy(update={"fasttext_min_count": 3, "rare_tokens": "random"})
    vectors = train_static_vectors(source_tokenizer, CORPUS, tmp_path / "f.txt", config)
    specials = set(source_tokenizer.all_special_ids)
    expected = sorted(i for i, n in token_counts(source_tokenizer, CORPUS).items()
                      if n >= 3 and i not in specials)
    assert vectors.ids.tolist() == expected and len(expected) > 5
    assert vectors.vectors.shape == (len(expected), 8) and torch.isfinite(vectors.vectors).all()
    assert vectors.rows(torch.tensor([expected[2], 10_000])).tolist() == [2, -1]
    assert vectors.count("ngram") == vectors.count("drawn") == 0


def fasttext_in_a_fresh_interpreter(path, words):
    """fastText itself (not the harness's wrapper) in a new interpreter: its words and vectors.

    Not in this process: fastText leaves most of its input matrix uninitialised, and in a test
    session that memory may hold what earlier tests left (harness.methods.unibridge.fasttext_process).
    """
    script = ("import json, sys, fasttext\n"
              "m = fasttext.train_unsupervised(sys.argv[1], model='cbow', dim=8, epoch=1, minCount=1,"
              " neg=10, thread=1, verbose=0)\n"
              "words = json.load(sys.stdin)\n"
              "print(json.dumps([m.get_words(), [m.get_word_vector(w).tolist() for w in words]]))\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], input=json.dumps(words),
                          capture_output=True, text=True, check=True)
    kept, vectors = json.loads(done.stdout)
    return kept, np.array(vectors, dtype=np.float32)


def test_ngram_vectors_cover_the_whole_vocabulary(tmp_path, source_tokenizer):
    """Every token gets fastText's own get_word_vector; all-zero ones a random stand-in."""
    vectors = train_static_vectors(source_tokenizer, CORPUS, tmp_path / "f.txt", TINY)
    vocab = sorted((i, token) for token, i in source_tokenizer.get_vocab().items())
    kept, expected = fasttext_in_a_fresh_interpreter(tmp_path / "f.txt", [token for _, token in vocab])
    assert vectors.ids.tolist() == [i for i, _ in vocab]
    zero = ~expected.any(axis=1)
    assert zero.any() and not zero.all()
    assert np.array_equal(vectors.vectors.numpy()[~zero], expected[~zero])
    assert vectors.drawn.numpy().tolist() == zero.tolist()
    assert (vectors.vectors[vectors.drawn].abs().sum(dim=1) > 0).all()
    unseen = [token not in set(kept) for _, token in vocab]
    assert vectors.ngram.tolist() == unseen and sum(unseen) > len(unseen) // 2
    specials = set(source_tokenizer.all_special_ids)  # <unk>: not written
    seen = set(token_counts(source_tokenizer, CORPUS)) - specials
    assert seen and not any(unseen[k] for k, (i, _) in enumerate(vocab) if i in seen)


def test_single_thread_is_reproducible(tmp_path, source_tokenizer):
    first = train_static_vectors(source_tokenizer, CORPUS, tmp_path / "a.txt", TINY)
    again = train_static_vectors(source_tokenizer, CORPUS, tmp_path / "b.txt", TINY)
    assert TINY.threads == 1 and torch.equal(first.vectors, again.vectors)


def test_no_frequent_tokens_gives_no_vectors(tmp_path, source_tokenizer):
    config = TINY.model_copy(update={"fasttext_min_count": 1000})
    vectors = train_static_vectors(source_tokenizer, CORPUS[:3], tmp_path / "f.txt", config)
    assert vectors.ids.numel() == 0 and vectors.vectors.shape == (0, 8)


def test_a_failing_fasttext_child_raises_with_its_stderr_and_prints_nothing(tmp_path, capfd):
    """The child's stderr is captured (a stopped run shows no child traceback) and is in the error."""
    import pytest

    from harness.methods.unibridge.fasttext_process import FastTextError, train_and_query

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n", encoding="utf-8")
    with pytest.raises(FastTextError) as caught:
        train_and_query(corpus, ["a"], model="cbow", dim=4, epoch=1, minCount=1, no_such_option=1)
    assert "no_such_option" in str(caught.value) and str(corpus) in str(caught.value)
    assert capfd.readouterr().err == ""
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.txt"]  # its request folder is gone
