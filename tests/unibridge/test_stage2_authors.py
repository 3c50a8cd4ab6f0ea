"""Stage 2's rule counts against counts recorded from the authors' FASE functions.

Recorded with ``benchmarks/stage2_authors.py`` (its docstring lists the authors' steps), on
2026-12-03, with ``UNIBRIDGE_AUTHORS_REPO`` a checkout of TokisakiKurumi2001/UniBridge (commit
6a38462, ``xlm/UniBridge/fase``), FastText 1 thread, 300-d, 3 epochs:

    python3 -c "from harness.models.tiny_tokenizers import train_spm; from pathlib import Path; \\
        lines = [l for l in Path('fixtures/monolingual/tgl.txt').read_text().splitlines() if l]; \\
        Path('tgl-spm.model').write_bytes(train_spm(lines, 500, 'unigram'))"
    python3 benchmarks/stage2_authors.py --spm tgl-spm.model --corpus fixtures/monolingual/tgl.txt

Source: the tiny XLM-R tokenizer of the fixtures' five sources (1,999 tokens); target: 504
tokens. The authors' functions gave 145 lexical + case-insensitive rows, 161 semantic, 199
weighted. The lexical counts must agree exactly. The semantic count cannot: on this corpus
(1,854 words) most pairs involve a random stand-in for an all-zero FastText vector (theirs
``np.random.randn`` per token, ours a seeded generator), and their FastText models are trained
in their own process on their own tokenized file; ours gave 132 (docs/benchmarks.md, "Stage 2
against the authors' functions", shows that the same vectors give the same pairs).
"""

import os
from pathlib import Path

import pytest

from harness.methods.unibridge.target_tokenizer import build_target_tokenizer
from harness.models.tiny_tokenizers import train_spm

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fixtures" / "monolingual" / "tgl.txt"
AUTHORS = {"lexical_and_casefold": 145, "semantic": 161, "weighted": 199, "total": 504}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from stage2_authors import fixture_source_tokenizer

    lines = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    spm = tmp_path_factory.mktemp("tgl") / "spm.model"
    spm.write_bytes(train_spm(lines, 500, "unigram"))
    source = fixture_source_tokenizer()
    return source, build_target_tokenizer(spm, source), lines, spm


def test_lexical_counts_equal_the_authors(inputs):
    from stage2_authors import our_counts

    source, target, lines, _ = inputs
    ours = our_counts(source, target, lines, threads=1)
    assert ours["total"] == AUTHORS["total"]
    assert ours["lexical"] + ours["lexical_casefold"] == AUTHORS["lexical_and_casefold"]
    # the authors count one row more as weighted: their `if not overlapping.get(token)` reads
    # the lexical match of token id 0 (<s>) as no match
    assert ours["semantic"] + ours["weighted"] == AUTHORS["semantic"] + AUTHORS["weighted"] - 1


@pytest.mark.skipif(not os.environ.get("UNIBRIDGE_AUTHORS_REPO"),
                    reason="needs UNIBRIDGE_AUTHORS_REPO (a checkout of the authors' repository)")
def test_the_authors_functions_still_give_the_recorded_counts(inputs):
    pytest.importorskip("loguru")
    from stage2_authors import authors_counts

    source, target, _, _ = inputs
    counts = authors_counts(source, target, CORPUS, 1, Path(os.environ["UNIBRIDGE_AUTHORS_REPO"]))
    assert counts == AUTHORS


@pytest.mark.skipif(not os.environ.get("UNIBRIDGE_AUTHORS_REPO"),
                    reason="needs UNIBRIDGE_AUTHORS_REPO (a checkout of the authors' repository)")
def test_our_eq3_on_their_vectors_finds_their_pairs(inputs):
    """Same vectors, same pairs: our block-wise Eq. 3 (whole source vocabulary) = theirs."""
    pytest.importorskip("loguru")
    import torch
    from stage2_authors import authors_run, authors_vectors

    from harness.methods.unibridge.embeddings import _semantic_pairs

    source, target, _, _ = inputs
    repo = Path(os.environ["UNIBRIDGE_AUTHORS_REPO"])
    _, state = authors_run(source, target, CORPUS, 1, repo)
    target_vectors, source_vectors = authors_vectors(state, source, repo)
    lexical = torch.tensor([pair for pair in state["mapping"].values()]).reshape(-1, 2)
    ours = _semantic_pairs(target_vectors, source_vectors, lexical, 64, False)
    theirs = {(target_id, int(source_id)) for target_id, source_id in state["semantic"].values()}
    assert len(theirs) == AUTHORS["semantic"]
    assert {tuple(pair) for pair in ours.tolist()} == theirs
