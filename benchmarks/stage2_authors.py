"""Stage 2's rule counts from the authors' FASE functions and from ours, on the same inputs.

Usage::

    export UNIBRIDGE_AUTHORS_REPO=/path/to/UniBridge   # a checkout of TokisakiKurumi2001/UniBridge
    python benchmarks/stage2_authors.py --spm spm.model --corpus tur.txt \\
        [--source xlm-roberta-base | --source DIR] [--threads 1]

The authors' code is imported from ``$UNIBRIDGE_AUTHORS_REPO/xlm/UniBridge/fase`` (never copied
here; it needs ``loguru``, ``datasets`` and ``fasttext``). Their steps, as their ``FASE`` runs
them (PAPER.md, Eqs. 2-3):

1. ``load_target_token_embedding(target_tokenizer=T, target_training_data_path=corpus,
   fasttext_epochs=3, fasttext_embedding_dim=300, processes=threads)`` for the source and for
   the target tokenizer (FastText CBOW, minCount 1, 10 negatives, on the corpus tokenized by it);
2. ``get_overlapping_tokens(target, source, fuzzy_search=True)``: exact and case-insensitive;
3. ``additional = {token: id for token, id in target.get_vocab().items()
   if not overlapping.get(token)}`` and ``np.random.seed(0)`` (their stand-ins for zero
   vectors are ``np.random.randn``);
4. ``get_semantic_sim_tokens(src_ft, tgt_ft, additional, source, target)``: Eq. 3;
5. the weighted rows (Eqs. 5-8) are the target tokens left, with the same ``.get`` test.

Ours is :func:`harness.methods.unibridge.embeddings.initialize_embeddings` with the stage's defaults
(``--threads`` sets FastText's thread count on both sides). Both results print as JSON; the
recorded counts of ``tests/unibridge/test_stage2_authors.py`` come from this script. Their
Eq. 3 is a Python loop over target tokens (about 10 tokens/s against 2K source tokens on
2 cores; it uses CUDA when torch sees a GPU), so a 250K-vocabulary run wants a GPU.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "monolingual"
SOURCES = ("eng", "zho", "rus", "ara", "jpn")
ENV = "UNIBRIDGE_AUTHORS_REPO"


def fixture_source_tokenizer(vocab_size: int = 2000):
    """The tiny XLM-R tokenizer of the smoke suite: SentencePiece on the five sources' fixture text."""
    from harness.models.tiny_tokenizers import train_tiny_tokenizer

    lines = [line for lang in SOURCES
             for line in (FIXTURES / f"{lang}.txt").read_text(encoding="utf-8").splitlines() if line]
    return train_tiny_tokenizer("xlmr", lines, vocab_size)


def authors_counts(source, target, corpus_file: Path, threads: int, repo: Path) -> dict[str, int]:
    """Rows per rule by the authors' functions (module docstring, steps 1-5)."""
    counts, _ = authors_run(source, target, corpus_file, threads, repo)
    return counts


def authors_run(source, target, corpus_file: Path, threads: int, repo: Path):
    """``(counts, state)``: the counts of :func:`authors_counts` and what produced them.

    ``state`` holds their FastText models (``src_ft``, ``tgt_ft``), their ``mapping``,
    ``additional`` tokens and ``semantic`` pairs, for :func:`authors_vectors`.
    """
    sys.path.insert(0, str(repo / "xlm" / "UniBridge"))
    with tempfile.TemporaryDirectory(prefix="fase-cache-") as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # their FastText cache, keyed by tokenizer hash
        from fase import fasttext_embs
        from fase.fase import get_overlapping_tokens, get_semantic_sim_tokens

        fasttext_embs.CACHE_DIR = Path(cache) / "fase"
        options = dict(target_training_data_path=str(corpus_file), fasttext_epochs=3,
                       fasttext_embedding_dim=300, processes=threads)
        src_ft = fasttext_embs.load_target_token_embedding(target_tokenizer=source, **options)
        tgt_ft = fasttext_embs.load_target_token_embedding(target_tokenizer=target, **options)
        mapping = get_overlapping_tokens(target, source, fuzzy_search=True)
        overlapping = {token: target_id for token, (target_id, _) in mapping.items()}
        additional = {t: i for t, i in target.get_vocab().items() if not overlapping.get(t)}
        np.random.seed(0)
        semantic = get_semantic_sim_tokens(src_ft, tgt_ft, additional, source, target)
    aligned = {**overlapping, **{token: pair[0] for token, pair in semantic.items()}}
    weighted = [token for token in target.get_vocab() if not aligned.get(token)]
    counts = {"lexical_and_casefold": len(mapping), "semantic": len(semantic),
              "weighted": len(weighted), "total": len(target)}
    return counts, dict(src_ft=src_ft, tgt_ft=tgt_ft, mapping=mapping, additional=additional,
                        semantic=semantic)


def authors_vectors(state: dict, source, repo: Path):
    """Their Eq. 3 inputs as ``StaticVectors``: F^T of their additional tokens, F^S of the source.

    The vectors their ``get_semantic_sim_tokens`` builds, drawn again in its order: after
    ``np.random.seed(0)``, ``model[token]`` of every additional target token, then of every
    source token under their standardised string, ``np.random.randn`` where that sums to 0.
    The source rows are their positions, which are the source ids when no two tokens share a
    standardised string (checked).
    """
    import torch

    from harness.methods.unibridge.static_vectors import StaticVectors

    sys.path.insert(0, str(repo / "xlm" / "UniBridge"))
    from fase.fase import get_token_standardization_func

    def sanitised(model, words):
        rows = [model[word] for word in words]
        return np.asarray([row if sum(row) != 0 else np.random.randn(*row.shape) for row in rows],
                          dtype="float32")

    standardise = get_token_standardization_func(source)
    keys = {standardise(source, i): i for i in sorted(source.get_vocab().values())}
    if list(keys.values()) != list(range(len(keys))):
        raise ValueError("standardised source strings collide: positions are not ids")
    np.random.seed(0)
    target_rows = sanitised(state["tgt_ft"], list(state["additional"]))
    source_rows = sanitised(state["src_ft"], list(keys))
    target_ids = torch.tensor(list(state["additional"].values()))
    order = torch.argsort(target_ids)
    return (StaticVectors(target_ids[order], torch.from_numpy(target_rows)[order]),
            StaticVectors(torch.arange(len(keys)), torch.from_numpy(source_rows)))


def our_counts(source, target, corpus: list[str], threads: int) -> dict[str, int]:
    """Rows per rule by stage 2 with its defaults."""
    import torch

    from harness.methods.unibridge.embeddings import EmbeddingInitConfig, initialize_embeddings

    with tempfile.TemporaryDirectory() as work:
        _, report = initialize_embeddings(torch.zeros(len(source), 4), source, target, corpus,
                                          EmbeddingInitConfig(threads=threads), Path(work))
    return report


def main() -> None:
    """Print the authors' and our counts for one source tokenizer, target vocabulary and corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spm", type=Path, required=True, help="target SentencePiece model")
    parser.add_argument("--corpus", type=Path, required=True, help="target text, one line a sample")
    parser.add_argument("--source", help="source tokenizer (hub id or folder); default: tiny XLM-R")
    parser.add_argument("--threads", type=int, default=1, help="FastText threads (both sides)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not os.environ.get(ENV):
        sys.exit(f"set {ENV} to a checkout of TokisakiKurumi2001/UniBridge")
    from transformers import AutoTokenizer

    from harness.methods.unibridge.target_tokenizer import build_target_tokenizer

    source = AutoTokenizer.from_pretrained(args.source) if args.source else fixture_source_tokenizer()
    target = build_target_tokenizer(args.spm, source)
    corpus = [line for line in args.corpus.read_text(encoding="utf-8").splitlines() if line]
    print(json.dumps({"ours": our_counts(source, target, corpus, args.threads),
                      "authors": authors_counts(source, target, args.corpus, args.threads,
                                                Path(os.environ[ENV]))}, indent=2))


if __name__ == "__main__":
    main()
