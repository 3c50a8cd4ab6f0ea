"""EXTEND baseline (Wang et al. 2020; PAPER.md "Baselines"; Table 19, mBERT).

Example (suite YAML)::

    methods: {extend: {pretraining: {learning_rate: 2.0e-5}, token_set: wang}}

Graph of one job (target ``t``)::

    corpus(t) ─► vocab_search ─► vocab_extension ─► continued_pretraining(t)
              ─► finetune(sources) ─► evaluation

1. ``vocab_extension``: the target's new wordpieces are appended to mBERT's vocabulary; every
   old id keeps its id and its embedding row (and LM-head bias) bit for bit; the new rows are
   drawn as BERT initialises weights, N(0, ``initializer_range``) (Wang et al.: new weights
   randomly initialised; transformers' ``resize_token_embeddings(mean_resizing=False)``).
   Where the new wordpieces come from (docs/choices.md "EXTEND"): Wang et al. train a
   SentencePiece unigram model on the target data and write its pieces as WordPiece tokens;
   here the SentencePiece model is UniBridge's stage-1 tokenizer of the target (Algorithm 1's
   size; the same stage and key as UniBridge's). ``token_set`` says how its pieces become
   WordPiece tokens (:data:`TOKEN_SETS`): ``wang`` (default), Wang et al.'s own conversion
   (``▁x`` → ``x``, otherwise ``##x``; :func:`wang_wordpieces`), or ``wang_with_characters``,
   which adds every character of the pieces in both forms as the tiny mBERT's vocabulary is
   built (:func:`harness.models.tiny_tokenizers.wordpiece_vocabulary`). Those mBERT lacks are the
   new tokens.
2. ``continued_pretraining``: full-model MLM (15 % masking) on the target's monolingual corpus.
   The paper gives no settings; the defaults are stage 3's schedule (50 epochs, batch 32) with
   a learning rate of 2e-5, usual for continued BERT pretraining (a suite option).
3. Fine-tuning of the whole model on all sources (as the zero-shot baseline: 10 epochs, batch
   32, lr 1e-5), then evaluation on the target.

Only mBERT (``bert`` backbones): the extension writes WordPiece tokens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from baselines.zero_shot import finetune_and_evaluate
from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.methods.base import Method
from harness.methods.build_env import BuildEnv
from harness.methods.unibridge.vocab import VocabSearchConfig, VocabSearchStage
from harness.models.backbones import BACKBONE_FILE, CORPUS_FILE, MODEL_DIR
from harness.stages.finetune import PAPER_FINETUNING
from harness.suite.schema import Job
from harness.training.arguments import TrainingConfig

log = logging.getLogger(__name__)

EXTENSION_FILE = "extension.json"
TRAINING_FILE = "training.json"
EXTEND_PRETRAINING = TrainingConfig(epochs=50, batch_size=32, learning_rate=2e-5)
SPM_MARKER = "\u2581"
TokenSet = Literal["wang", "wang_with_characters"]
WORD_PIECE_TYPES = (1, 4)
"""SentencePiece piece types converted: NORMAL and USER_DEFINED (not CONTROL, UNKNOWN, BYTE)."""


class ExtendConfig(StrictConfig):
    """EXTEND's settings: stage 1 as UniBridge, MLM pretraining, zero-shot fine-tuning."""

    vocab: VocabSearchConfig = VocabSearchConfig()
    token_set: TokenSet = "wang"
    pretraining: TrainingConfig = EXTEND_PRETRAINING
    mask_probability: float = Field(0.15, gt=0, lt=1)
    max_length: int = Field(128, gt=2)
    finetuning: TrainingConfig = PAPER_FINETUNING
    eval_batch_size: int = Field(32, gt=0)


class PretrainingConfig(StrictConfig):
    """Config of the continued-pretraining stage."""

    training: TrainingConfig = EXTEND_PRETRAINING
    mask_probability: float = Field(0.15, gt=0, lt=1)
    max_length: int = Field(128, gt=2)


class ExtensionConfig(StrictConfig):
    """Config of the vocabulary-extension stage: how SentencePiece pieces become WordPiece tokens."""

    token_set: TokenSet = "wang"


def wang_wordpieces(pieces: Sequence[str]) -> list[str]:
    """Wang et al.'s conversion of SentencePiece pieces to WordPiece tokens, in piece order.

    As ``parse_sentencepiece_token`` in their ``preprocessing-scripts/mkvocab.py``
    (ZihanWangKi/extend_bert): a piece that opens a word (``▁x``) becomes ``x``, any other
    piece ``##x``. Two departures, both for pieces their trainer settings never produce or that
    cannot be a WordPiece token: the bare marker ``▁`` (their rule writes an empty line into
    ``vocab.txt``) is skipped, and duplicates keep their first place (their ``extend_vocab.py``
    appends a token once).
    """
    tokens = (piece[1:] if piece.startswith(SPM_MARKER) else "##" + piece for piece in pieces)
    return [token for token in dict.fromkeys(tokens) if token]


def wang_with_characters_wordpieces(pieces: Sequence[str]) -> list[str]:
    """Wang et al.'s tokens plus every character of the pieces in both forms (``c``, ``##c``).

    The tiny mBERT's own construction (:func:`harness.models.tiny_tokenizers.wordpiece_vocabulary`):
    no character of the target can fall to ``[UNK]``, at the price of more new rows.
    """
    from harness.models.tiny_tokenizers import BERT_SPECIALS, wordpiece_vocabulary

    return wordpiece_vocabulary(pieces, vocab_size=3 * len(pieces) + len(BERT_SPECIALS))


TOKEN_SETS = {"wang": wang_wordpieces, "wang_with_characters": wang_with_characters_wordpieces}
"""``token_set`` name → function from SentencePiece pieces (id order) to WordPiece tokens."""


def new_wordpieces(spm_model: Path, vocabulary: Mapping[str, int], token_set: TokenSet) -> list[str]:
    """The target tokenizer's pieces as WordPiece tokens (``token_set``) that ``vocabulary`` lacks.

    Control and unknown pieces (``<unk>``, ``<s>``, ``</s>``) and byte pieces are not converted:
    Wang et al.'s SentencePiece settings have no ``<s>``/``</s>`` and no byte fallback, and skip
    ``<unk>`` (the first line of the ``.vocab`` file).
    """
    from harness.models.spm import parse_spm_model
    from harness.models.tiny_tokenizers import BERT_SPECIALS

    spm = parse_spm_model(Path(spm_model).read_bytes())
    pieces = [piece for piece, _, kind in spm.pieces if kind in WORD_PIECE_TYPES]
    tokens = TOKEN_SETS[token_set](pieces)
    return [token for token in tokens if token not in vocabulary and token not in BERT_SPECIALS]


def extend_tokenizer(tokenizer, new_tokens: Sequence[str], out: Path):
    """``tokenizer`` saved into ``out`` with ``new_tokens`` appended to its WordPiece vocabulary.

    Appended to the model vocabulary itself (``tokenizer.json`` and ``vocab.txt``), not as
    "added tokens", so that WordPiece segments words with them as with any other piece.
    """
    from transformers import AutoTokenizer

    tokenizer.save_pretrained(out)
    state = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = state["model"]["vocab"]
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise ValueError("the backbone's WordPiece ids are not 0..n-1: cannot append to them")
    for token in new_tokens:
        vocab[token] = len(vocab)
    (out / "tokenizer.json").write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    with (out / "vocab.txt").open("a", encoding="utf-8") as file:
        file.writelines(token + "\n" for token in new_tokens)
    return AutoTokenizer.from_pretrained(out)


def extend_model(pretrained: str, spm_model: Path, out: Path, seed: int,
                 token_set: TokenSet) -> dict[str, Any]:
    """Write the extended model and tokenizer into ``out``; returns the extension's facts."""
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    model = AutoModelForMaskedLM.from_pretrained(pretrained)
    new_tokens = new_wordpieces(spm_model, tokenizer.get_vocab(), token_set)
    extended = extend_tokenizer(tokenizer, new_tokens, out)
    torch.manual_seed(seed)
    model.resize_token_embeddings(len(extended), mean_resizing=False)
    model.save_pretrained(out)
    return {"old_size": len(tokenizer), "new_tokens": len(new_tokens), "size": len(extended)}


class VocabExtensionStage(Stage):
    """EXTEND's step 1 (artifact kind ``vocab_extension``, laid out as a backbone artifact).

    Inputs: ``backbone`` (mBERT) and ``tokenizer`` (stage 1's ``spm.model``). Writes
    ``backbone.json``, ``model/`` (model + extended tokenizer) and ``extension.json``.
    Config: :class:`ExtensionConfig` (``None``: its defaults). Version 2: Wang et al.'s token
    set became the default (version 1 added every character in both forms).
    """

    kind = "vocab_extension"
    version = 2

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Extend the vocabulary and the embedding matrix."""
        from harness.models.backbones import pretrained_path

        config = self.config or ExtensionConfig()
        facts = extend_model(pretrained_path(inputs["backbone"]), inputs["tokenizer"] / "spm.model",
                             out / MODEL_DIR, ctx.seed, config.token_set)
        write_backbone_record(out, "extended")
        atomic_write_text(out / EXTENSION_FILE, json.dumps(facts, indent=2))

    def summary(self, artifact: Path) -> dict[str, Any]:
        """Old and new vocabulary sizes."""
        return json.loads((artifact / EXTENSION_FILE).read_text(encoding="utf-8"))


def write_backbone_record(out: Path, name: str) -> None:
    """``backbone.json`` pointing at ``out/model``, so later stages read ``out`` as a backbone."""
    record = {"name": name, "arch": "bert", "pretrained": MODEL_DIR}
    atomic_write_text(out / BACKBONE_FILE, json.dumps(record, indent=2))


def pretrain(config: PretrainingConfig, pretrained: str, corpus_file: Path, out: Path,
             work: Path, ctx: StageContext) -> dict[str, Any]:
    """Full-model MLM on the corpus (resuming from ``work``); saves model + tokenizer into ``out``."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, Trainer

    from harness.methods.unibridge.adaptation import read_corpus
    from harness.methods.unibridge.objectives import EXAMPLE_INDEX, encode_corpus, objective_collator
    from harness.training.arguments import log_metrics_to_logging, train_resumably, training_arguments

    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    model = AutoModelForMaskedLM.from_pretrained(pretrained).to(ctx.device)
    corpus = encode_corpus(read_corpus(corpus_file), tokenizer, config.max_length)
    features = [{k: v for k, v in f.items() if k != EXAMPLE_INDEX} for f in corpus.features]
    trainer = log_metrics_to_logging(Trainer(
        model=model, args=training_arguments(config.training, work, ctx), train_dataset=features,
        data_collator=objective_collator("bert", tokenizer, config.mask_probability)))
    record = train_resumably(trainer, work) | {"n_examples": len(features)}
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return record


class ContinuedPretrainingStage(Stage):
    """EXTEND's step 2 (artifact kind ``continued_pretraining``, laid out as a backbone artifact).

    Inputs: ``backbone`` (a ``vocab_extension`` artifact) and ``corpus`` (the target's text).
    """

    kind = "continued_pretraining"
    version = 1

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """MLM on the whole model; ``backbone.json`` + ``model/`` + ``training.json``."""
        from harness.models.backbones import pretrained_path

        record = pretrain(self.config or PretrainingConfig(), pretrained_path(inputs["backbone"]),
                          inputs["corpus"] / CORPUS_FILE, out / MODEL_DIR, ctx.partial_dir(self), ctx)
        write_backbone_record(out, "extended-pretrained")
        atomic_write_text(out / TRAINING_FILE, json.dumps(record, indent=2))

    def schedule(self) -> TrainingConfig:
        """The optimisation schedule (what ``plan`` costs)."""
        return (self.config or PretrainingConfig()).training

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The MLM loss of the whole training and its number of steps."""
        return json.loads((artifact / TRAINING_FILE).read_text(encoding="utf-8"))


class Extend(Method):
    """Vocabulary extension + MLM on the target, fine-tuning on the sources."""

    Config = ExtendConfig
    archs = frozenset({"bert"})  # WordPiece extension of mBERT (Wang et al.; the paper's Table 19)
    description = "EXTEND: mBERT vocabulary extended with target wordpieces, MLM, fine-tuning"

    def build(self, job: Job, env: BuildEnv) -> Stage:
        """vocab_search → vocab_extension → continued_pretraining → finetune → evaluation."""
        config: ExtendConfig = self.config
        corpus = env.corpus(job.lang, role="target")
        vocab = VocabSearchStage(config.vocab, corpus=corpus)
        extended = VocabExtensionStage(ExtensionConfig(token_set=config.token_set), seed=job.seed,
                                       backbone=env.backbone(job.backbone), tokenizer=vocab)
        pretrained = ContinuedPretrainingStage(
            PretrainingConfig(training=config.pretraining, mask_probability=config.mask_probability,
                              max_length=config.max_length),
            seed=job.seed, backbone=extended, corpus=corpus)
        return finetune_and_evaluate(job, env, pretrained, config.finetuning, config.max_length,
                                     config.eval_batch_size)
