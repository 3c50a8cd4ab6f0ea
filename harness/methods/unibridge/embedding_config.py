"""Stage 2's settings (:class:`EmbeddingInitConfig`), apart from the stage that reads them.

Example::

    config = EmbeddingInitConfig(fasttext_epochs=1, threads=1)
    config.rare_tokens          # "ngram": the authors' rule for tokens FastText drops

Both :mod:`harness.methods.unibridge.embeddings` (the stage, Eqs. 2-8) and
:mod:`harness.methods.unibridge.static_vectors` (F^T / F^S, Eqs. 3 and 5) read it, and neither
imports the other's module for it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.core.config import StrictConfig
from harness.methods.unibridge.alignment import DEFAULT_BLOCK


class EmbeddingInitConfig(StrictConfig):
    """Stage 2 settings. Paper: FastText, 300 dimensions, 3 epochs (Table 7).

    Where the paper is silent: ``fasttext_min_count=1``, ``rare_tokens="ngram"`` and
    ``lexical_casefold=True`` follow the authors' code (module docstring);
    ``rare_tokens="random"`` with ``fasttext_min_count=10`` is this harness's earlier rule.
    ``fasttext_model="cbow"`` and 10 negative samples follow FOCUS (Dobler and de Melo, 2023),
    whose sparsemax step the paper reuses; ``semantic_alignment="none"`` is the paper's variant,
    ``"procrustes"`` maps F^S onto F^T with orthogonal Procrustes fitted on the lexically
    overlapping tokens before Eq. 3. ``semantic_source`` is the source side of Eq. 3: the whole
    source vocabulary (``"vocabulary"``, as the authors' code) or only the source tokens outside
    the lexical overlap (``"non_overlapping"``, A_S^L = V^S minus O^L as the paper writes Eq. 3;
    this stage's versions 2-3). ``threads`` is FastText's thread count: 1 is reproducible,
    more is faster but changes the vectors from run to run. ``block_size`` changes speed and
    memory only, never the result.
    """

    init: Literal["aligned", "random"] = "aligned"
    semantic_alignment: Literal["none", "procrustes"] = "none"
    fasttext_dim: int = Field(300, gt=0)
    fasttext_epochs: int = Field(3, gt=0)
    fasttext_min_count: int = Field(1, ge=1)
    fasttext_model: Literal["cbow", "skipgram"] = "cbow"
    rare_tokens: Literal["ngram", "random"] = "ngram"
    semantic_source: Literal["vocabulary", "non_overlapping"] = "vocabulary"
    lexical_casefold: bool = True
    block_size: int = Field(DEFAULT_BLOCK, gt=0)
    threads: int = Field(1, gt=0)


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md. Empty: this stage follows the text in both trees.
    """
    return {}
