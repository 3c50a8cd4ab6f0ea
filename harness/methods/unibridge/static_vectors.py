"""FastText static vectors F^T / F^S of stage 2 (PAPER.md, Eqs. 3 and 5).

Example::

    vectors = train_static_vectors(tokenizer, corpus_lines, Path("work/target.txt"), config)
    vectors.rows(torch.tensor([5, 17]))   # row of each token in vectors.vectors, -1 if none

FastText is trained on the corpus tokenized by one tokenizer, so its words are that
tokenizer's tokens. Which tokens get a vector is ``config.rare_tokens`` (see
:mod:`harness.methods.unibridge.embeddings`): every token of the vocabulary (``"ngram"``, the authors'
FASE: ``get_word_vector`` gives an unseen token its character-n-gram vector, a random stand-in
replaces an all-zero one) or only the tokens FastText kept (``"random"``). Training is
reproducible only with one thread (fastText's Hogwild SGD), the default.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor
from transformers import PreTrainedTokenizerFast

from harness.methods.unibridge.fasttext_process import train_and_query

if TYPE_CHECKING:
    from harness.methods.unibridge.embedding_config import EmbeddingInitConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaticVectors:
    """FastText vectors of the tokens that have one (F^T or F^S).

    Attributes:
        ids: ``[n]`` token ids, ascending.
        vectors: ``[n, dim]`` fp32 vectors, row ``k`` belonging to ``ids[k]``.
        ngram: ``[n]`` bool, True for character-n-gram vectors of tokens FastText never saw
            (None: none).
        drawn: ``[n]`` bool, True for random stand-ins of all-zero vectors (None: none).

    """

    ids: Tensor
    vectors: Tensor
    ngram: Tensor | None = None
    drawn: Tensor | None = None

    @classmethod
    def empty(cls, dim: int) -> StaticVectors:
        """No tokens, vectors of dimension ``dim``."""
        return cls(torch.empty(0, dtype=torch.long), torch.empty(0, dim))

    def count(self, flag: str) -> int:
        """How many vectors have ``flag`` (``"ngram"`` or ``"drawn"``)."""
        mask = getattr(self, flag)
        return 0 if mask is None else int(mask.sum())

    def is_drawn(self, token_ids: Tensor) -> Tensor:
        """Whether each token's vector is a random stand-in."""
        if self.drawn is None:
            return torch.zeros_like(token_ids, dtype=torch.bool)
        return torch.isin(token_ids, self.ids[self.drawn])

    def rows(self, token_ids: Tensor) -> Tensor:
        """Row of each token id in :attr:`vectors`, -1 for tokens without a vector."""
        if len(self.ids) == 0:
            return torch.full_like(token_ids, -1)
        token_ids = token_ids.contiguous()
        position = torch.searchsorted(self.ids, token_ids).clamp_max(len(self.ids) - 1)
        return torch.where(self.ids[position] == token_ids, position, -1)

    def below(self, size: int) -> StaticVectors:
        """Only the tokens with ids below ``size`` (rows the embedding matrix has)."""
        keep = self.ids < size
        masks = [None if mask is None else mask[keep] for mask in (self.ngram, self.drawn)]
        return StaticVectors(self.ids[keep], self.vectors[keep], *masks)


#: Characters fastText splits words on; a token containing one cannot be a fastText word.
_FASTTEXT_SEPARATORS = frozenset(" \n\r\t\v\f\0")


def train_static_vectors(tokenizer: PreTrainedTokenizerFast, corpus: Sequence[str], path: Path,
                         config: EmbeddingInitConfig) -> StaticVectors:
    """Train FastText on ``corpus`` tokenized by ``tokenizer``; return its tokens' vectors.

    Each line of the training file is one sample's tokens (their vocabulary strings) joined by
    spaces, so fastText's words are exactly the tokenizer's tokens (and its character n-grams
    are n-grams of the token strings). Special tokens and tokens fastText would split are left
    out of the file. With ``rare_tokens="ngram"`` every token of the vocabulary gets
    ``get_word_vector`` (an n-gram vector when unseen, a random stand-in when that is zero);
    with ``"random"`` only the tokens FastText kept (seen ``fasttext_min_count`` times).
    fastText's Python API seeds its generator with a fixed 0, so a run is reproducible with
    ``threads=1`` only, and it trains in a fresh process (:mod:`harness.methods.unibridge.fasttext_process`:
    fastText leaves most of its input matrix uninitialised).
    """
    words = _write_training_file(tokenizer, corpus, path)
    if max((count for _, count in words.values()), default=0) < config.fasttext_min_count:
        log.warning("no token occurs %d times in the corpus: no FastText vectors",
                    config.fasttext_min_count)
        return StaticVectors.empty(config.fasttext_dim)
    if config.rare_tokens == "random":  # the tokens fastText keeps are among those written
        candidates = sorted((token_id, word) for word, (token_id, _) in words.items())
    else:
        candidates = sorted((token_id, token) for token, token_id in tokenizer.get_vocab().items())
    kept, queried = train_and_query(
        path, [word for _, word in candidates], model=config.fasttext_model, dim=config.fasttext_dim,
        epoch=config.fasttext_epochs, minCount=config.fasttext_min_count, neg=10, thread=config.threads)
    trained = set(kept)
    rows = [k for k, (_, word) in enumerate(candidates) if config.rare_tokens != "random" or word in trained]
    if not rows:
        return StaticVectors.empty(config.fasttext_dim)
    entries, vectors = [candidates[k] for k in rows], queried[rows]
    drawn = _replace_zero_rows(vectors)
    ids = torch.tensor([token_id for token_id, _ in entries], dtype=torch.long)
    ngram = torch.tensor([word not in trained for _, word in entries])
    return StaticVectors(ids, torch.from_numpy(vectors).float(), ngram, drawn)


def _replace_zero_rows(vectors: np.ndarray) -> Tensor:
    """Replace all-zero rows by N(0, 1) draws (fixed seed), in place; return where they were.

    As the authors' FASE: a zero vector has no cosine similarity to anything. They are common
    with one thread: fastText initialises only the first min(``thread``, 10)/10 of its input matrix
    (``DenseMatrix::uniform``), so an unseen token whose n-grams were neither trained nor in
    that part comes out all-zero.
    """
    zero = ~vectors.any(axis=1)
    rng = np.random.default_rng(0)
    vectors[zero] = rng.standard_normal((int(zero.sum()), vectors.shape[1]))
    return torch.from_numpy(zero)


def _write_training_file(tokenizer: PreTrainedTokenizerFast, corpus: Sequence[str],
                         path: Path) -> dict[str, tuple[int, int]]:
    """Write the tokenized corpus to ``path``; return token string -> (id, count) as written."""
    special = set(tokenizer.all_special_ids)
    words: dict[str, tuple[int, int]] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = tokenizer(list(corpus), add_special_tokens=False)["input_ids"]
    with open(path, "w", encoding="utf-8") as handle:
        for ids in encoded:
            tokens = [(token, token_id) for token, token_id in
                      zip(tokenizer.convert_ids_to_tokens(ids), ids, strict=True)
                      if token_id not in special and _FASTTEXT_SEPARATORS.isdisjoint(token)]
            for token, token_id in tokens:
                words[token] = (token_id, words.get(token, (token_id, 0))[1] + 1)
            handle.write(" ".join(token for token, _ in tokens) + "\n")
    return words
