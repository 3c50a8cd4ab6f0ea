"""Stage 3 of UniBridge: language adaptation with L = L_MLM + β·KL (PAPER.md, Eq. 9).

Example::

    stage = AdaptationStage(AdaptationConfig(), seed=1, backbone=backbone, corpus=target_corpus,
                            embeddings=embedding_init)       # omit embeddings for a source language
    path = cache.materialize(stage, ctx)     # tokenizer/, embeddings.pt, adapter/, training.json

The training step (:class:`harness.methods.unibridge.adaptation_trainer.AdaptationTrainer`) computes
the MLM logits at masked positions only. The backbone is frozen; trained are the new embedding
matrix (tied to the LM head's output layer), a MAD-X language adapter and its invertible
adapter (:func:`harness.models.loading.language_adapter_config`). Without ``embeddings`` (source
languages, MAD-X-style baselines) the backbone's tokenizer and embeddings are used and stay frozen.

The KL teacher (PAPER.md "KL term"): the original backbone without adapters, reading the text
the student saw, tokenized by the backbone's own tokenizer. Its output depends on nothing that
trains and it runs in eval mode (no dropout), so its mean-pooled last hidden state is computed
once per sentence, the first time a batch holds it
(:class:`harness.methods.unibridge.adaptation_trainer.TeacherStates`), instead of at every step: exactly
the same loss, at the cost of one teacher forward pass per sentence trained on. The
student side is the last hidden state of the training forward pass (on the masked input; for
mBART the encoder's), passed through the invertible adapter's inverse
(:func:`harness.models.loading.invert`), mean-pooled over non-padding tokens. Option
``pi_unibridge: head_input`` reads π_UniBridge where the LM head's own forward feeds its output
layer instead (:func:`harness.models.loading.output_states`; docs/choices.md): the same option sets the
harmony states of stage 5 (:mod:`harness.methods.unibridge.harmony`).

Checkpoints hold the trainable parameters only (plus optimizer and RNG state, and the KL
teacher's states computed so far), written into ``ctx.partial_dir(stage)`` each epoch; a killed
run resumes from the last one, to the same weights bit for bit.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from harness.core.config import StrictConfig, added_option
from harness.core.graph import Stage, StageContext
from harness.core.manifest import load_tensors
from harness.core.workdir import atomic_write_text
from harness.methods.unibridge.objectives import AdaptationCollator, encode_corpus, objective_collator
from harness.models.backbones import CORPUS_FILE, backbone_arch, pretrained_path
from harness.models.loading import (
    ADAPTER_DIR,
    EMBEDDINGS_FILE,
    LAST_LAYER,
    TOKENIZER_DIR,
    PiReading,
    install_target_embeddings,
    language_adapter_config,
    load_adapter_model,
    load_backbone_tokenizer,
)
from harness.training.arguments import (
    TrainingConfig,
    log_metrics_to_logging,
    train_resumably,
    training_arguments,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase, TrainerCallback

log = logging.getLogger(__name__)

ADAPTER_NAME = "language"
TARGET_EMBEDDINGS = "target"
TRAINING_FILE = "training.json"


class AdaptationConfig(StrictConfig):
    """Stage 3 settings (paper, Table 8: β 1.0, reduction factors 2, mask 0.15, 50 epochs, batch 32).

    ``learning_rate``: the paper picks one per language from {5e-5, 2e-4, 5e-4, 1e-3} without
    saying which; the default 5e-4 is a suite option. Where the paper is silent:
    ``max_length`` 128 tokens (the corpus samples are 128 words); ``teacher_max_length`` 256,
    because the backbone's tokenizer splits unseen-script text into more pieces and the teacher
    should read all of the text the student saw; ``train_embeddings`` (True: the paper trains
    the new matrix). ``max_device_batch_size`` only sets gradient accumulation; ``max_steps``
    caps training for smoke runs. ``pi_unibridge``: which tensor is π_UniBridge in the KL term
    and in the harmony states (:data:`harness.models.loading.PiReading`); the default ``last_layer``
    is left out of the cache key, so the keys of existing artifacts stay valid.
    """

    beta: float = Field(1.0, ge=0)
    reduction_factor: int = Field(2, gt=0)
    inv_reduction_factor: int = Field(2, gt=0)
    mask_probability: float = Field(0.15, gt=0, lt=1)
    epochs: float = Field(50, gt=0)
    batch_size: int = Field(32, gt=0)
    learning_rate: float = Field(5e-4, gt=0)
    max_length: int = Field(128, gt=2)
    teacher_max_length: int = Field(256, gt=2)
    max_device_batch_size: int = Field(32, gt=0)
    max_steps: int | None = Field(None, gt=0)
    train_embeddings: bool = True
    pi_unibridge: PiReading = added_option(LAST_LAYER)


    def training(self) -> TrainingConfig:
        """The optimisation part, for :func:`harness.training.arguments.training_arguments`."""
        return TrainingConfig(epochs=self.epochs, batch_size=self.batch_size,
                              learning_rate=self.learning_rate,
                              max_device_batch_size=self.max_device_batch_size,
                              max_steps=self.max_steps)


def set_trainable(model: PreTrainedModel, adapter: str, train_embeddings: bool) -> None:
    """Freeze everything but ``adapter`` (+ its invertible adapter) and, optionally, embeddings.

    adapters' ``train_adapter`` leaves flexible heads trainable; the LM head belongs to the
    frozen backbone, except its output matrix, which is tied to the input embeddings. Trained
    embeddings pass their lookup's gradient as the touched rows only (bitwise the same gradient,
    without two dense passes over the matrix: :mod:`harness.methods.unibridge.embedding_gradient`).
    """
    model.train_adapter(adapter)
    for parameter in model.heads.parameters():
        parameter.requires_grad_(False)
    embedding = model.get_input_embeddings()
    embedding.weight.requires_grad_(train_embeddings)
    if train_embeddings:
        from harness.methods.unibridge.embedding_gradient import use_row_gradients

        use_row_gradients(embedding)


def student_tokenizer(pretrained: str, embeddings: Path | None) -> PreTrainedTokenizerBase:
    """Stage 2's target tokenizer, or the backbone's own when there are no new embeddings."""
    from transformers import AutoTokenizer

    if embeddings is None:
        return load_backbone_tokenizer(pretrained)
    return AutoTokenizer.from_pretrained(embeddings / TOKENIZER_DIR)


def prepare_student(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                    embeddings: Path | None, config: AdaptationConfig) -> None:
    """Install the target embeddings (if given) and a fresh trainable language adapter."""
    if embeddings is not None:
        matrix = load_tensors(embeddings / EMBEDDINGS_FILE)
        install_target_embeddings(model, tokenizer, matrix, TARGET_EMBEDDINGS)
    model.add_adapter(ADAPTER_NAME, config=language_adapter_config(
        model, config.reduction_factor, config.inv_reduction_factor))
    set_trainable(model, ADAPTER_NAME, embeddings is not None and config.train_embeddings)


def read_corpus(path: Path) -> list[str]:
    """Non-empty lines of a ``corpus.txt``."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: empty corpus")
    return lines


def train_language_adapter(config: AdaptationConfig, backbone: Path, corpus_file: Path,
                           embeddings: Path | None, out: Path, work_dir: Path, ctx: StageContext,
                           callbacks: Sequence[TrainerCallback] = ()) -> dict[str, Any]:
    """Train a language adapter (resuming from ``work_dir``) and write the artifact into ``out``.

    Returns:
        The content of ``training.json``.
    """
    from transformers import set_seed

    from harness.methods.unibridge.adaptation_trainer import AdaptationTrainer, TeacherStates

    started = time.time()
    set_seed(ctx.seed)
    pretrained = pretrained_path(backbone)
    model = load_adapter_model(pretrained).to(ctx.device)
    tokenizer = student_tokenizer(pretrained, embeddings)
    corpus = encode_corpus(read_corpus(corpus_file), tokenizer, config.max_length)
    teacher = None
    if config.beta > 0:
        teacher = TeacherStates(model, load_backbone_tokenizer(pretrained), corpus.texts,
                                config.teacher_max_length)
    prepare_student(model, tokenizer, embeddings, config)
    args = training_arguments(config.training(), work_dir, ctx)
    trainer = log_metrics_to_logging(AdaptationTrainer(
        model=model, args=args, train_dataset=corpus.features, teacher=teacher, beta=config.beta,
        reading=config.pi_unibridge,
        data_collator=AdaptationCollator(
            objective_collator(backbone_arch(backbone), tokenizer, config.mask_probability)),
        callbacks=list(callbacks)))
    trained = train_resumably(trainer, work_dir)
    return write_artifact(model, tokenizer, out, embeddings is not None, trained | {
        "losses": [entry for entry in trainer.state.log_history if "loss" in entry],
        "n_examples": len(corpus.features), "seconds": round(time.time() - started, 3)})


def write_artifact(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out: Path,
                   own_embeddings: bool, record: dict[str, Any]) -> dict[str, Any]:
    """Write ``tokenizer/``, ``embeddings.pt`` (own vocabulary only), ``adapter/``, ``training.json``."""
    import torch

    tokenizer.save_pretrained(out / TOKENIZER_DIR)
    if own_embeddings:
        torch.save(model.get_input_embeddings().weight.detach().cpu().clone(), out / EMBEDDINGS_FILE)
    model.save_adapter(str(out / ADAPTER_DIR), ADAPTER_NAME, with_head=False)
    losses = record["losses"]
    record["final_loss"] = losses[-1]["loss"] if losses else record["train_loss"]
    atomic_write_text(out / TRAINING_FILE, json.dumps(record, indent=2))
    return record


class AdaptationStage(Stage):
    """Stage 3 (artifact kind ``language_adapter``).

    Inputs: ``backbone``, ``corpus`` (``corpus.txt``) and, for a target language, ``embeddings``
    (stage 2's ``tokenizer/`` and ``embeddings.pt``).
    """

    kind = "language_adapter"
    uses_device = True
    version = 2  # 2: train_loss of the whole training when resumed; complete checkpoints only

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Train the language adapter; checkpoints go to ``ctx.partial_dir(self)``."""
        train_language_adapter(self.config or AdaptationConfig(), inputs["backbone"],
                               inputs["corpus"] / CORPUS_FILE, inputs.get("embeddings"), out,
                               ctx.partial_dir(self), ctx)

    def schedule(self) -> TrainingConfig:
        """The optimisation schedule (what ``plan`` costs)."""
        return (self.config or AdaptationConfig()).training()

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The last logged training loss (L_MLM + β·KL) and the number of optimisation steps."""
        record = json.loads((artifact / TRAINING_FILE).read_text(encoding="utf-8"))
        return {"final_loss": record["final_loss"], "steps": record["steps"]}


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md. Empty: this stage follows the text in both trees.
    """
    return {}
