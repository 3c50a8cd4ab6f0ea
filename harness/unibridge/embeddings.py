"""Stage 2 of UniBridge: initialise the target-vocabulary embedding matrix (PAPER.md, Eqs. 2-8).

Example::

    target = build_target_tokenizer(Path("spm.model"), source_tokenizer)
    matrix, report = initialize_embeddings(model.get_input_embeddings().weight, source_tokenizer,
                                           target, corpus_lines, EmbeddingInitConfig(), work_dir)
    report   # {"lexical": 3120, "semantic": 410, "weighted": 5200, "fallback": 1270, ...}

Every row of E^T is set by exactly one rule, applied in this order and counted in the report:

1. ``lexical`` (Eq. 2): the token is in the backbone vocabulary (:mod:`.overlap`): copy E^S.
2. ``semantic`` (Eqs. 3-4): among the other tokens, target/source pairs that are mutual nearest
   neighbours by cosine similarity of FastText vectors F^T / F^S trained on the target corpus
   tokenized by each tokenizer: copy E^S of the partner.
3. ``weighted`` (Eqs. 5-8): every other token with an F^T vector: sparsemax-weighted sum of the
   embeddings of the aligned tokens (1 and 2) that have an F^T vector.
4. ``fallback`` (the paper is silent): tokens without an F^T vector (too rare for FastText's
   ``min_count``) are drawn from N(mean, std) of the backbone embeddings, per dimension, as FOCUS
   does for its unmatched tokens.

``init="random"`` is the ablation "− embedding initialization": a Xavier-normal matrix.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import fasttext
import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerFast

from harness.backbones import pretrained_path
from harness.graph import Stage, StageContext, atomic_write_text
from harness.unibridge.alignment import (
    DEFAULT_BLOCK,
    mutual_nearest_neighbours,
    procrustes,
    sparsemax_combine,
)
from harness.unibridge.overlap import lexical_overlap
from harness.unibridge.target_tokenizer import build_target_tokenizer

log = logging.getLogger(__name__)

TOKENIZER_DIR = "tokenizer"
EMBEDDINGS_FILE = "embeddings.pt"
REPORT_FILE = "init_report.json"


class EmbeddingInitConfig(BaseModel):
    """Stage 2 settings. Paper: FastText, 300 dimensions, 3 epochs (Table 7).

    Where the paper is silent: ``fasttext_model="cbow"``, ``fasttext_min_count=10`` and 10
    negative samples follow FOCUS (Dobler and de Melo, 2023), whose sparsemax step the paper
    reuses; ``semantic_alignment="none"`` is the paper's variant, ``"procrustes"`` maps F^S onto
    F^T with orthogonal Procrustes fitted on the lexically overlapping tokens before Eq. 3.
    ``block_size`` and ``threads`` change speed and memory only, never the result.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    init: Literal["aligned", "random"] = "aligned"
    semantic_alignment: Literal["none", "procrustes"] = "none"
    fasttext_dim: int = Field(300, gt=0)
    fasttext_epochs: int = Field(3, gt=0)
    fasttext_min_count: int = Field(10, ge=1)
    fasttext_model: Literal["cbow", "skipgram"] = "cbow"
    block_size: int = Field(DEFAULT_BLOCK, gt=0)
    threads: int = Field(2, gt=0)


@dataclass(frozen=True)
class StaticVectors:
    """FastText vectors of the tokens a FastText model kept (F^T or F^S).

    Attributes:
        ids: ``[n]`` token ids, ascending.
        vectors: ``[n, dim]`` fp32 vectors, row ``k`` belonging to ``ids[k]``.

    """

    ids: Tensor
    vectors: Tensor

    @classmethod
    def empty(cls, dim: int) -> StaticVectors:
        """No tokens, vectors of dimension ``dim``."""
        return cls(torch.empty(0, dtype=torch.long), torch.empty(0, dim))

    def rows(self, token_ids: Tensor) -> Tensor:
        """Row of each token id in :attr:`vectors`, -1 for tokens without a vector."""
        if len(self.ids) == 0:
            return torch.full_like(token_ids, -1)
        token_ids = token_ids.contiguous()
        position = torch.searchsorted(self.ids, token_ids).clamp_max(len(self.ids) - 1)
        return torch.where(self.ids[position] == token_ids, position, -1)


#: Characters fastText splits words on; a token containing one cannot be a fastText word.
_FASTTEXT_SEPARATORS = frozenset(" \n\r\t\v\f\0")


def train_static_vectors(tokenizer: PreTrainedTokenizerFast, corpus: Sequence[str], path: Path,
                         config: EmbeddingInitConfig) -> StaticVectors:
    """Train FastText on ``corpus`` tokenized by ``tokenizer``; return the vectors of its tokens.

    Each line of the training file is one sample's tokens (their vocabulary strings) joined by
    spaces, so fastText's words are exactly the tokenizer's tokens (and its character n-grams
    are n-grams of the token strings). Special tokens and tokens fastText would split are left
    out; tokens rarer than ``fasttext_min_count`` get no vector. fastText's Python API seeds
    its generator with a fixed 0, so a run is reproducible with ``threads=1`` only.
    """
    words = _write_training_file(tokenizer, corpus, path)
    if max((count for _, count in words.values()), default=0) < config.fasttext_min_count:
        log.warning("no token occurs %d times in the corpus: no FastText vectors",
                    config.fasttext_min_count)
        return StaticVectors.empty(config.fasttext_dim)
    model = fasttext.train_unsupervised(
        str(path), model=config.fasttext_model, dim=config.fasttext_dim,
        epoch=config.fasttext_epochs, minCount=config.fasttext_min_count, neg=10,
        thread=config.threads, verbose=0)
    kept = sorted((words[word][0], word) for word in model.get_words() if word in words)
    if not kept:
        return StaticVectors.empty(config.fasttext_dim)
    vectors = np.stack([model.get_word_vector(word) for _, word in kept])
    ids = torch.tensor([token_id for token_id, _ in kept], dtype=torch.long)
    return StaticVectors(ids, torch.from_numpy(vectors).float())


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


def initialize_embeddings(source_embeddings: Tensor, source_tokenizer: PreTrainedTokenizerFast,
                          target_tokenizer: PreTrainedTokenizerFast, corpus: Sequence[str],
                          config: EmbeddingInitConfig, work_dir: Path, *, seed: int = 0,
                          progress: bool = False) -> tuple[Tensor, dict[str, Any]]:
    """Build E^T for ``target_tokenizer`` from the backbone's E^S (Eqs. 2-8).

    Args:
        source_embeddings: E^S, ``[>= len(source_tokenizer), hidden]``.
        source_tokenizer: the backbone's tokenizer.
        target_tokenizer: the new tokenizer (:func:`build_target_tokenizer`).
        corpus: target-language text, one sample per entry (FastText training data).
        config: stage settings.
        work_dir: scratch directory for the FastText training files.
        seed: seed of the random rows (fallback and ``init="random"``).
        progress: show progress bars.

    Returns:
        ``(E^T [len(target_tokenizer), hidden], report)``; the report counts the rows set by
        each rule (see the module docstring) and sums to ``total``.

    """
    size, source = len(target_tokenizer), source_embeddings.detach().float().cpu()
    generator = torch.Generator().manual_seed(seed)
    if config.init == "random":
        matrix = torch.empty(size, source.shape[1])
        torch.nn.init.xavier_normal_(matrix, generator=generator)
        return matrix.to(source_embeddings.dtype), _report(size, random=size)
    matrix = _fallback_rows(source, size, generator)
    lexical = _lexical_pairs(target_tokenizer, source_tokenizer, len(source))
    matrix[lexical[:, 0]] = source[lexical[:, 1]]
    vectors = [train_static_vectors(tokenizer, corpus, Path(work_dir) / f"{name}.txt", config)
               for name, tokenizer in (("target", target_tokenizer), ("source", source_tokenizer))]
    target_vectors, source_vectors = vectors
    if config.semantic_alignment == "procrustes":
        source_vectors = _procrustes_map(source_vectors, target_vectors, lexical)
    semantic = _semantic_pairs(target_vectors, source_vectors, lexical, config.block_size, progress)
    matrix[semantic[:, 0]] = source[semantic[:, 1]]
    aligned = torch.cat([lexical[:, 0], semantic[:, 0]])
    weighted = _weighted_rows(matrix, target_vectors, aligned, config.block_size, progress)
    report = _report(size, lexical=len(lexical), semantic=len(semantic), weighted=weighted,
                     fallback=size - len(lexical) - len(semantic) - weighted)
    report.update(fasttext_target_tokens=len(target_vectors.ids),
                  fasttext_source_tokens=len(source_vectors.ids))
    log.info("embedding init: %s", report)
    return matrix.to(source_embeddings.dtype), report


def _report(total: int, **counts: int) -> dict[str, Any]:
    keys = ("lexical", "semantic", "weighted", "fallback", "random")
    return {**{key: counts.get(key, 0) for key in keys}, "total": total}


def _fallback_rows(source: Tensor, size: int, generator: torch.Generator) -> Tensor:
    """``size`` rows drawn from N(mean, std) of ``source``, per dimension."""
    mean, std = source.mean(dim=0), source.std(dim=0)
    return mean + std * torch.randn(size, source.shape[1], generator=generator)


def _lexical_pairs(target: PreTrainedTokenizerFast, source: PreTrainedTokenizerFast,
                   source_rows: int) -> Tensor:
    """Eq. 2's pairs as a ``[k, 2]`` tensor, without source ids beyond the embedding matrix."""
    pairs = [pair for pair in lexical_overlap(target, source) if pair[1] < source_rows]
    return torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)


def _procrustes_map(source: StaticVectors, target: StaticVectors, lexical: Tensor) -> StaticVectors:
    """F^S rotated onto F^T by Procrustes fitted on the lexical pairs both models embed."""
    rows_t, rows_s = target.rows(lexical[:, 0]), source.rows(lexical[:, 1])
    both = (rows_t >= 0) & (rows_s >= 0)
    if int(both.sum()) < 2:
        log.warning("procrustes: %d anchors, leaving F^S unmapped", int(both.sum()))
        return source
    rotation = procrustes(source.vectors[rows_s[both]], target.vectors[rows_t[both]])
    log.info("procrustes: fitted on %d anchors", int(both.sum()))
    return StaticVectors(source.ids, source.vectors @ rotation)


def _semantic_pairs(target: StaticVectors, source: StaticVectors, lexical: Tensor,
                    block_size: int, progress: bool) -> Tensor:
    """Eqs. 3-4: mutual nearest neighbours among the non-overlapping tokens with vectors."""
    free_t = ~torch.isin(target.ids, lexical[:, 0])
    free_s = ~torch.isin(source.ids, lexical[:, 1])
    rows, cols = mutual_nearest_neighbours(target.vectors[free_t], source.vectors[free_s],
                                           block_size, progress)
    return torch.stack([target.ids[free_t][rows], source.ids[free_s][cols]], dim=1)


def _weighted_rows(matrix: Tensor, target: StaticVectors, aligned: Tensor, block_size: int,
                   progress: bool) -> int:
    """Eqs. 5-8 in place for the non-aligned tokens with an F^T vector; returns their number."""
    is_aligned = torch.isin(target.ids, aligned)
    if not bool(is_aligned.any()) or bool(is_aligned.all()):
        return 0
    remaining = target.ids[~is_aligned]
    matrix[remaining] = sparsemax_combine(
        target.vectors[~is_aligned], target.vectors[is_aligned], matrix[target.ids[is_aligned]],
        max_elements=block_size * block_size, progress=progress)
    return len(remaining)


def load_source(pretrained: str) -> tuple[PreTrainedTokenizerFast, Tensor]:
    """Load the backbone's tokenizer and its input embedding matrix E^S."""
    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    model = AutoModel.from_pretrained(pretrained)
    return tokenizer, model.get_input_embeddings().weight.detach().clone()


def build_embedding_artifact(pretrained: str, spm_model: Path, corpus_file: Path,
                             config: EmbeddingInitConfig, out: Path, *, seed: int = 0,
                             progress: bool = False) -> dict[str, Any]:
    """Write ``tokenizer/``, ``embeddings.pt`` and ``init_report.json`` into ``out``.

    Shared by :class:`EmbeddingInitStage` and the ``init-embeddings`` command.
    """
    source_tokenizer, source_embeddings = load_source(pretrained)
    target_tokenizer = build_target_tokenizer(spm_model, source_tokenizer)
    corpus = [line for line in Path(corpus_file).read_text(encoding="utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory(prefix="fasttext-") as scratch:
        matrix, report = initialize_embeddings(source_embeddings, source_tokenizer,
                                               target_tokenizer, corpus, config, Path(scratch),
                                               seed=seed, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    target_tokenizer.save_pretrained(out / TOKENIZER_DIR)
    torch.save(matrix, out / EMBEDDINGS_FILE)
    atomic_write_text(out / REPORT_FILE, json.dumps(report, indent=2))
    return report


class EmbeddingInitStage(Stage):
    """Stage 2: target tokenizer + initialised embeddings (artifact kind ``embedding_init``).

    Inputs: ``backbone`` (``backbone.json``), ``tokenizer`` (stage 1's ``spm.model``) and
    ``corpus`` (``corpus.txt``, the target-language text FastText trains on).
    """

    kind = "embedding_init"
    version = 1

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Build the target tokenizer and E^T from the backbone and the target corpus."""
        config: EmbeddingInitConfig = self.config or EmbeddingInitConfig()
        build_embedding_artifact(pretrained_path(inputs["backbone"]),
                                 inputs["tokenizer"] / "spm.model", inputs["corpus"] / "corpus.txt",
                                 config, out, seed=ctx.seed, progress=ctx.progress)

    def summary(self, artifact: Path) -> dict[str, Any]:
        """Return the counts of ``init_report.json``."""
        return json.loads((artifact / REPORT_FILE).read_text(encoding="utf-8"))
