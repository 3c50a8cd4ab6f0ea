"""Stage 2 of UniBridge: initialise the target-vocabulary embedding matrix (PAPER.md, Eqs. 2-8).

Example::

    target = build_target_tokenizer(Path("spm.model"), source_tokenizer)
    matrix, report = initialize_embeddings(model.get_input_embeddings().weight, source_tokenizer,
                                           target, corpus_lines, EmbeddingInitConfig(), work_dir)
    report   # {"lexical": 3120, "lexical_casefold": 40, "semantic": 410, "weighted": 6470, ...}

Every row of E^T is set by exactly one rule, applied in this order and counted in the report
(``init_report.json``, the stage's summary and so every result record); the counts add up to
``total``, the target vocabulary size:

1. ``lexical`` (Eq. 2): the token is in the backbone vocabulary (:mod:`.overlap`): copy E^S.
2. ``lexical_casefold`` (Eq. 2, the authors' reading): no exact match, but a case-insensitive
   one (``lexical_casefold=True``, the default; :func:`.overlap.casefold_overlap`): copy E^S.
3. ``semantic`` (Eqs. 3-4): among the other tokens, target/source pairs that are mutual nearest
   neighbours by cosine similarity of FastText vectors F^T / F^S trained on the target corpus
   tokenized by each tokenizer: copy E^S of the partner. The search runs block-wise over the
   whole source vocabulary, lexical partners included, as the authors' code searches it
   (:func:`.alignment.mutual_nearest_neighbours`).
4. ``weighted`` (Eqs. 5-8): every other token with an F^T vector: sparsemax-weighted sum of the
   embeddings of the aligned tokens (1-3) that have an F^T vector.
5. ``random``: tokens without an F^T vector, drawn from N(mean, std) of the backbone embeddings
   per dimension (as FOCUS does for unmatched tokens); with ``init="random"``, every row.

Which tokens have a FastText vector (``rare_tokens``; the paper is silent, PAPER.md "Stage 2
details in the authors' code"):

- ``"ngram"`` (default, as the authors' FASE): FastText trains with minCount 1 and every token of
  either vocabulary gets ``model.get_word_vector(token)``, which for a token absent from the
  corpus is its character-n-gram vector; when that is all zeros (a one-character or unseen
  token without known n-grams) a random N(0, 1) vector (fixed seed) stands in. So rule 5 never
  applies and every remaining token is a weighted sum, as Eq. 8 says.
- ``"random"`` (this harness's earlier rule): only tokens seen ``fasttext_min_count`` times
  have a vector; the others are not searched in Eq. 3 and get random rows (rule 5).

FastText runs single-threaded by default: its Hogwild training is reproducible only with one
thread (two 2-thread runs differed by up to 0.059 in E^T on the tiny backbones). ``threads > 1``
is faster and nondeterministic; it enters the stage config and so the cache key.

``init="random"`` is the ablation "− embedding initialization": a Xavier-normal matrix.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.methods.unibridge.alignment import DEFAULT_BLOCK
from harness.models.backbones import pretrained_path

if TYPE_CHECKING:
    import torch
    from torch import Tensor
    from transformers import PreTrainedTokenizerFast

    from harness.methods.unibridge.static_vectors import StaticVectors

log = logging.getLogger(__name__)

TOKENIZER_DIR = "tokenizer"
EMBEDDINGS_FILE = "embeddings.pt"
REPORT_FILE = "init_report.json"


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
        seed: seed of the random rows (rule 5 and ``init="random"``).
        progress: show progress bars.

    Returns:
        ``(E^T [len(target_tokenizer), hidden], report)``; the report counts the rows set by
        each rule (see the module docstring) and sums to ``total``.

    """
    import torch

    from harness.methods.unibridge.static_vectors import train_static_vectors

    size, source = len(target_tokenizer), source_embeddings.detach().float().cpu()
    generator = torch.Generator().manual_seed(seed)
    if config.init == "random":
        matrix = torch.empty(size, source.shape[1])
        torch.nn.init.xavier_normal_(matrix, generator=generator)
        return matrix.to(source_embeddings.dtype), _report(size, random=size)
    matrix = _random_rows(source, size, generator)
    exact, folded = _lexical_pairs(target_tokenizer, source_tokenizer, len(source), config)
    lexical = torch.cat([exact, folded])
    matrix[lexical[:, 0]] = source[lexical[:, 1]]
    vectors = [train_static_vectors(tokenizer, corpus, Path(work_dir) / f"{name}.txt", config)
               for name, tokenizer in (("target", target_tokenizer), ("source", source_tokenizer))]
    target_vectors, source_vectors = vectors[0], vectors[1].below(len(source))
    if config.semantic_alignment == "procrustes":
        source_vectors = _procrustes_map(source_vectors, target_vectors, lexical)
    semantic = _semantic_pairs(target_vectors, source_vectors, lexical, config.block_size, progress,
                               whole_source=config.semantic_source == "vocabulary")
    matrix[semantic[:, 0]] = source[semantic[:, 1]]
    aligned = torch.cat([lexical[:, 0], semantic[:, 0]])
    weighted = _weighted_rows(matrix, target_vectors, aligned, config.block_size, progress)
    report = _report(size, lexical=len(exact), lexical_casefold=len(folded),
                     semantic=len(semantic), weighted=weighted,
                     random=size - len(lexical) - len(semantic) - weighted)
    for name, static in (("target", target_vectors), ("source", source_vectors)):
        report.update({f"fasttext_{name}_tokens": len(static.ids),
                       f"fasttext_{name}_ngram": static.count("ngram"),
                       f"fasttext_{name}_drawn": static.count("drawn")})
    report["semantic_with_drawn"] = int((target_vectors.is_drawn(semantic[:, 0])
                                         | source_vectors.is_drawn(semantic[:, 1])).sum())
    log.info("embedding init: %s", report)
    return matrix.to(source_embeddings.dtype), report


#: The rules of the module docstring, in order; their counts add up to ``total``.
RULES = ("lexical", "lexical_casefold", "semantic", "weighted", "random")


def _report(total: int, **counts: int) -> dict[str, Any]:
    return {**{key: counts.get(key, 0) for key in RULES}, "total": total}


def _random_rows(source: Tensor, size: int, generator: torch.Generator) -> Tensor:
    """``size`` rows drawn from N(mean, std) of ``source``, per dimension."""
    import torch

    mean, std = source.mean(dim=0), source.std(dim=0)
    return mean + std * torch.randn(size, source.shape[1], generator=generator)


def _lexical_pairs(target: PreTrainedTokenizerFast, source: PreTrainedTokenizerFast,
                   source_rows: int, config: EmbeddingInitConfig) -> tuple[Tensor, Tensor]:
    """Eq. 2's exact and case-insensitive pairs as ``[k, 2]`` tensors.

    Source ids beyond the embedding matrix are left out.
    """
    import torch

    from harness.methods.unibridge.overlap import casefold_overlap, lexical_overlap

    exact = [pair for pair in lexical_overlap(target, source) if pair[1] < source_rows]
    folded = []
    if config.lexical_casefold:
        folded = [pair for pair in casefold_overlap(target, source, [t for t, _ in exact])
                  if pair[1] < source_rows]
    return tuple(torch.tensor(pairs, dtype=torch.long).reshape(-1, 2) for pairs in (exact, folded))


def _procrustes_map(source: StaticVectors, target: StaticVectors, lexical: Tensor) -> StaticVectors:
    """F^S rotated onto F^T by Procrustes fitted on the lexical pairs both models embed.

    Only the vectors change: which tokens have an n-gram vector or a random stand-in stays as it
    was, so the report's ``fasttext_source_ngram`` and ``fasttext_source_drawn`` still count them.
    """
    from harness.methods.unibridge.alignment import procrustes

    rows_t, rows_s = target.rows(lexical[:, 0]), source.rows(lexical[:, 1])
    both = (rows_t >= 0) & (rows_s >= 0)
    if int(both.sum()) < 2:
        log.warning("procrustes: %d anchors, leaving F^S unmapped", int(both.sum()))
        return source
    rotation = procrustes(source.vectors[rows_s[both]], target.vectors[rows_t[both]])
    log.info("procrustes: fitted on %d anchors", int(both.sum()))
    return dataclasses.replace(source, vectors=source.vectors @ rotation)  # keeps the n-gram/drawn flags


def _semantic_pairs(target: StaticVectors, source: StaticVectors, lexical: Tensor,
                    block_size: int, progress: bool, whole_source: bool = True) -> Tensor:
    """Eqs. 3-4: mutual nearest neighbours between A_T^L and the source vocabulary, block-wise.

    The target side A_T^L is the target tokens outside the lexical overlap that have a vector;
    the source side is every source token with a vector, those already copied by Eq. 2
    included, as the authors' ``get_semantic_sim_tokens`` searches it (docs/benchmarks.md,
    "Stage 2 against the authors' functions"): a free target token whose nearest source token
    is a lexical partner is not aligned. ``whole_source=False`` leaves the lexical partners out
    of the source side too (A_S^L as the paper writes it; ``semantic_source="non_overlapping"``).
    """
    import torch

    from harness.methods.unibridge.alignment import mutual_nearest_neighbours

    free_t = ~torch.isin(target.ids, lexical[:, 0])
    free_s = torch.ones_like(source.ids, dtype=torch.bool)
    if not whole_source:
        free_s = ~torch.isin(source.ids, lexical[:, 1])
    rows, cols = mutual_nearest_neighbours(target.vectors[free_t], source.vectors[free_s],
                                           block_size, progress)
    return torch.stack([target.ids[free_t][rows], source.ids[free_s][cols]], dim=1)


def _weighted_rows(matrix: Tensor, target: StaticVectors, aligned: Tensor, block_size: int,
                   progress: bool) -> int:
    """Eqs. 5-8 in place for the non-aligned tokens with an F^T vector; returns their number."""
    import torch

    from harness.methods.unibridge.alignment import sparsemax_combine

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
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    model = AutoModel.from_pretrained(pretrained)
    return tokenizer, model.get_input_embeddings().weight.detach().clone()


def build_embedding_artifact(pretrained: str, spm_model: Path, corpus_file: Path,
                             config: EmbeddingInitConfig, out: Path, *, seed: int = 0,
                             progress: bool = False) -> dict[str, Any]:
    """Write ``tokenizer/``, ``embeddings.pt`` and ``init_report.json`` into ``out``.

    Shared by :class:`EmbeddingInitStage` and the ``init-embeddings`` command.
    """
    import torch

    from harness.methods.unibridge.target_tokenizer import build_target_tokenizer

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
    version = 5  # 2: authors' rules, Eq. 3, case-folded overlap; 3: FastText in a fresh process;
    # 4: Eq. 3's source side is the whole source vocabulary (lexical partners included);
    # 5: case-insensitive overlap by str.lower(), as the authors' fuzzy_search (was casefold)

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Build the target tokenizer and E^T from the backbone and the target corpus."""
        config: EmbeddingInitConfig = self.config or EmbeddingInitConfig()
        build_embedding_artifact(pretrained_path(inputs["backbone"]),
                                 inputs["tokenizer"] / "spm.model", inputs["corpus"] / "corpus.txt",
                                 config, out, seed=ctx.seed, progress=ctx.progress)

    def summary(self, artifact: Path) -> dict[str, Any]:
        """Return the counts of ``init_report.json``."""
        return json.loads((artifact / REPORT_FILE).read_text(encoding="utf-8"))
