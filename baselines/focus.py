"""FOCUS baseline (Dobler & de Melo 2023; PAPER.md "Baselines"; Tables 21–22).

Example (suite YAML)::

    methods:
      focus: {focus: {fasttext_dim: 100}}

UniBridge with stage 2 replaced: the target vocabulary's embeddings come from FOCUS, through
the authors' package ``deepfocus`` (``FOCUS(...)`` in its ``fasttext-tokenlevel`` mode, which
trains a FastText model on the target corpus tokenized by the target tokenizer, so it runs
offline). FOCUS copies the backbone's embedding for every token the two vocabularies share
(matched in a canonical form that ignores ▁ / ## / Ġ word-boundary markers) and makes every other
token a sparsemax-weighted combination of the shared tokens' embeddings, the weights from
FastText similarity; tokens FastText has no vector for are drawn from N(mean, std) of the
backbone's embeddings. Everything else (stage 1's target tokenizer, language adapters with
MLM + KL, task adapters, harmony weights) is UniBridge's, with the same keys: only the stage-2
artifact and what is built on it (the target's language adapter, its distances, the
evaluation) differ.

deepfocus trains the FastText model itself (its defaults: 3 epochs, dimension 100, minCount 10),
here with one thread (fastText is reproducible only single-threaded); its cache goes into the
stage's artifact (``deepfocus/``), not ``~/.cache`` (:func:`focus_embeddings`).
"""  # noqa: D214, D405  (the example's "methods:" is a suite YAML key, not a docstring section)

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.methods.unibridge.method import UniBridge, UniBridgeConfig
from harness.models.backbones import CORPUS_FILE
from harness.suite.schema import Job

log = logging.getLogger(__name__)

CACHE_DIR = "deepfocus"  # deepfocus's cache: the tokenized corpus and the FastText model
REPORT_FILE = "init_report.json"


class FocusConfig(StrictConfig):
    """FOCUS settings: deepfocus's defaults for its token-level FastText model, one thread."""

    fasttext_epochs: int = Field(3, gt=0)
    fasttext_dim: int = Field(100, gt=0)
    fasttext_min_count: int = Field(10, gt=0)
    threads: int = Field(1, gt=0)


def focus_embeddings(source_embeddings, source_tokenizer, target_tokenizer, corpus_file: Path,
                     config: FocusConfig, work: Path, seed: int):
    """E^T by FOCUS for ``target_tokenizer``; deepfocus's FastText cache goes to ``work``.

    deepfocus keeps the tokenized corpus and the FastText model in a module-level cache folder
    (``~/.cache/deepfocus``); it is pointed at ``work`` while FOCUS runs, so that nothing is
    written outside the stage's artifact. (Its cache-less mode trains FastText on a temporary
    file it has not flushed, i.e. on a truncated corpus, so it is not used.) fastText trains
    in a fresh interpreter (:func:`harness.methods.unibridge.fasttext_process.train_model`, quiet), as
    stage 2's does: in this process fastText's uninitialised input rows could start from reused
    heap, and FOCUS's weights with them. deepfocus's progress bars are library chatter: shown
    only when the ``deepfocus`` logger is at INFO (``-v``; the CLI sets the libraries' levels).
    """
    from unittest import mock

    from deepfocus import FOCUS, fasttext_embs

    from harness.methods.unibridge.fasttext_process import train_model

    with (mock.patch.object(fasttext_embs, "CACHE_DIR", work),
          mock.patch.object(fasttext_embs.fasttext, "train_unsupervised", train_model), _deepfocus_bars()):
        return FOCUS(target_tokenizer=target_tokenizer, source_tokenizer=source_tokenizer,
                     source_embeddings=source_embeddings,
                     auxiliary_embedding_mode="fasttext-tokenlevel",
                     target_training_data_path=str(corpus_file),
                     fasttext_model_epochs=config.fasttext_epochs,
                     fasttext_model_dim=config.fasttext_dim,
                     fasttext_model_min_count=config.fasttext_min_count,
                     processes=config.threads, seed=seed, verbosity="silent")


def overlap_count(target_tokenizer, source_tokenizer) -> int:
    """How many target tokens FOCUS matched in the backbone's vocabulary (and so copied)."""
    from deepfocus.focus import get_overlapping_tokens

    with _deepfocus_bars():
        overlapping, _ = get_overlapping_tokens(target_tokenizer=target_tokenizer,
                                                source_tokenizer=source_tokenizer, match_symbols=False,
                                                exact_match_all=True, fuzzy_match_all=False)
    return len(overlapping)


@contextmanager
def _deepfocus_bars():
    """Turn deepfocus's progress bars off unless its logger is at INFO (``-v``): library chatter."""
    from functools import partial
    from unittest import mock

    from deepfocus import fasttext_embs, focus, vocab_helper

    with ExitStack() as patches:
        if not logging.getLogger("deepfocus").isEnabledFor(logging.INFO):
            for module in (fasttext_embs, focus, vocab_helper):
                patches.enter_context(mock.patch.object(module, "tqdm", partial(module.tqdm, disable=True)))
        yield


class FocusInitStage(Stage):
    """Stage 2 by FOCUS (artifact kind ``focus_init``, laid out as ``embedding_init``).

    Inputs as :class:`~harness.methods.unibridge.embeddings.EmbeddingInitStage`: ``backbone``,
    ``tokenizer`` (stage 1's ``spm.model``), ``corpus``. Writes ``tokenizer/``, ``embeddings.pt``,
    ``init_report.json`` (vocabulary size, rows copied) and ``deepfocus/`` (deepfocus's cache: the
    tokenized corpus and the FastText model).
    """

    kind = "focus_init"
    version = 2  # 2: fastText trains in a fresh interpreter (its heap could seed the rows)

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Build the target tokenizer and its FOCUS embeddings."""
        import torch

        from harness.methods.unibridge.embeddings import load_source
        from harness.methods.unibridge.target_tokenizer import build_target_tokenizer
        from harness.models.backbones import pretrained_path
        from harness.models.loading import EMBEDDINGS_FILE, TOKENIZER_DIR

        source_tokenizer, source_embeddings = load_source(pretrained_path(inputs["backbone"]))
        target_tokenizer = build_target_tokenizer(inputs["tokenizer"] / "spm.model", source_tokenizer)
        matrix = focus_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                  inputs["corpus"] / CORPUS_FILE, self.config or FocusConfig(),
                                  out / CACHE_DIR, seed=ctx.seed)
        target_tokenizer.save_pretrained(out / TOKENIZER_DIR)
        torch.save(matrix.cpu().contiguous(), out / EMBEDDINGS_FILE)
        report = {"total": len(target_tokenizer),
                  "overlapping": overlap_count(target_tokenizer, source_tokenizer)}
        atomic_write_text(out / REPORT_FILE, json.dumps(report, indent=2))

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The target vocabulary size and how many of its rows FOCUS copied from the backbone."""
        return json.loads((artifact / REPORT_FILE).read_text(encoding="utf-8"))


class FocusMethodConfig(UniBridgeConfig):
    """UniBridge's hyperparameters plus FOCUS's (``embeddings`` is unused: FOCUS replaces stage 2)."""

    focus: FocusConfig = FocusConfig()


class Focus(UniBridge):
    """UniBridge with FOCUS embedding initialisation."""

    Config = FocusMethodConfig
    archs = frozenset({"xlmr", "bert"})  # the paper's pairings (Tables 21-22)
    description = "UniBridge with stage 2 replaced by FOCUS initialisation (deepfocus)"

    def embeddings(self, job: Job, backbone: Stage, vocab: Stage, corpus: Stage) -> Stage:
        """FOCUS instead of Eqs. 2–8."""
        return FocusInitStage(self.config.focus, seed=job.seed, backbone=backbone, tokenizer=vocab,
                              corpus=corpus)
