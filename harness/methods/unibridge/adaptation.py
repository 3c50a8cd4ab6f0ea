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
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from harness.core.config import StrictConfig, added_option, key_error
from harness.core.graph import Stage, StageContext
from harness.core.manifest import load_tensors
from harness.core.workdir import atomic_write_text
from harness.methods.unibridge.kl import KLForm
from harness.methods.unibridge.objectives import AdaptationCollator, encode_corpus, objective_collator
from harness.models.backbones import CORPUS_FILE, backbone_arch, pretrained_path
from harness.models.loading import (
    ADAPTER_DIR,
    EMBEDDINGS_FILE,
    HEAD_INPUT,
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
LM_HEAD_DIR = "lm_head"

#: Which trainable parameters AdamW does not decay (:class:`AdaptationConfig`, ``decay_exclusion``).
DecayExclusion = Literal["norm_and_bias", "bias_and_layernorm_name", "none"]


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

    Options of the ``authors`` profile (docs/fidelity.md, stage 3; file:line at 6a38462, xlm/
    unless mbert/ is named; defaults read the paper's text and stay out of the cache key):

    - ``kl_form``: ``kl`` D_KL(π_UniBridge ‖ π_PLM) as Eq. 9 writes it; ``authors_kl_div``
      ``-F.kl_div(p_U, p_PLM, reduction="batchmean")`` on probabilities, not log-probabilities
      (UniBridge/MLM/pl_wrapper.py:67; :mod:`harness.methods.unibridge.kl`).
    - ``teacher_input``: ``own_tokenizer`` the backbone reads the sentence under its own
      tokenizer (PAPER.md "KL term"); ``student_ids`` it reads the student's batch as it is —
      the new vocabulary's ids, masked — through its original embeddings
      (pl_wrapper.py:59-61: ``self.base_model(**batch)``), computed at every step.
    - ``teacher_dropout``: the teacher runs in train mode, dropout on (their Lightning 2.0.9
      Trainer puts the whole module, the ``eval()``-ed teacher included, back in train mode after
      the sanity-check validation: pl_wrapper.py:25 is undone). Needs ``student_ids``.
    - ``pi_unibridge: raw_last_layer``: ``hidden_states[-1]`` without the inverse invertible
      adapter (pl_wrapper.py:65).
    - ``new_lm_head``: train a new, randomly initialised LM head (its output layer tied to the
      input embeddings, its bias zero) instead of the backbone's frozen one
      (UniBridge/MLM/model.py:78 ``add_masked_lm_head``; adapter-transformers ties it and
      ``train_adapter`` leaves heads trainable). Not with ``pi_unibridge: head_input`` (stage 5
      reads the backbone's head).
    - ``weight_decay`` (AdamW's, decoupled), ``decay_exclusion`` (which trainable parameters
      are not decayed: ``norm_and_bias`` the Trainer's rule — biases and norm layers;
      ``bias_and_layernorm_name`` names holding ``bias`` or ``LayerNorm.weight``, pl_wrapper.py:83;
      ``none`` every one, UniBridgeSrc/MLM/pl_wrapper.py:44), ``warmup_ratio`` (linear warm-up).
      The paper gives none of them; their targets use 0.01, their ``ratio`` 0.1 is computed but
      never used (pl_wrapper.py:81), so no warm-up.
    - ``learning_rates``: per language (ISO 639-3), overriding ``learning_rate`` (train.sh).
    - ``source``: field overrides for a source language's adapter, which their code trains with
      another script (train_src_mlm.py, UniBridgeSrc/MLM). :meth:`for_language` resolves
      ``learning_rates`` and ``source`` into the config one adapter is trained with.
    - ``lr_schedule``: ``linear`` the Trainer's linear decay to 0; ``plateau`` a constant rate,
      multiplied by ``plateau_factor`` when the MLM loss of a held-out ``validation_fraction`` of
      the corpus (examples left out of training) has not improved by a relative
      ``plateau_threshold`` for ``plateau_patience`` epochs (torch's ``ReduceLROnPlateau``, stepped
      after each epoch's validation): their ``ReduceLROnPlateau(patience=3, factor=0.6,
      threshold=0.1)`` on ``valid/loss`` of a 1 % split (pl_wrapper.py:95-103,
      train_tgt_mlm.py:36; sources patience 2, factor 0.1, UniBridgeSrc/MLM/pl_wrapper.py:45-53).
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
    kl_form: KLForm = added_option("kl")
    teacher_input: Literal["own_tokenizer", "student_ids"] = added_option("own_tokenizer")
    teacher_dropout: bool = added_option(False)
    new_lm_head: bool = added_option(False)
    weight_decay: float = added_option(0.0, ge=0)
    decay_exclusion: DecayExclusion = added_option("norm_and_bias")
    warmup_ratio: float = added_option(0.0, ge=0, lt=1)
    learning_rates: dict[str, Annotated[float, Field(gt=0)]] = added_option({})
    source: dict[str, Any] = added_option({})
    lr_schedule: Literal["linear", "plateau"] = added_option("linear")
    validation_fraction: float = added_option(0.01, gt=0, lt=1)
    plateau_patience: int = added_option(3, ge=0)
    plateau_factor: float = added_option(0.6, gt=0, lt=1)
    plateau_threshold: float = added_option(0.1, ge=0)

    @model_validator(mode="after")
    def _check_options(self) -> AdaptationConfig:
        if self.teacher_dropout and self.teacher_input != "student_ids":
            raise key_error(self, "teacher_dropout", "a teacher with dropout cannot be cached per "
                            "sentence; valid: teacher_input student_ids, or teacher_dropout false",
                            self.teacher_dropout)
        if self.new_lm_head and self.pi_unibridge == HEAD_INPUT:
            raise key_error(self, "new_lm_head", "pi_unibridge head_input reads the backbone's LM "
                            "head, which a new head replaces; valid: new_lm_head false, or "
                            "pi_unibridge last_layer or raw_last_layer", self.new_lm_head)
        if self.source:
            if "source" in self.source or "learning_rates" in self.source:
                raise key_error(self, "source", "source overrides cannot nest 'source' or "
                                "'learning_rates'", self.source)
            type(self).model_validate(self.model_dump() | {"source": {}} | self.source)
        return self

    def for_language(self, language: str, source: bool = False) -> AdaptationConfig:
        """The config the adapter of ``language`` (a source language if ``source``) trains with.

        ``source`` overrides applied (a source language), then ``learning_rates[language]``;
        neither option is left in it (nor in its cache key). With the defaults (no per-language
        options) it is this config itself.
        """
        if not self.learning_rates and not self.source:
            return self
        update = dict(self.source) if source else {}
        if language in self.learning_rates:
            update["learning_rate"] = self.learning_rates[language]
        cleared = {"source": {}, "learning_rates": {}}
        checked = type(self).model_validate(self.model_dump() | cleared | update)
        # a copy, not ``checked``: validation would turn the untouched int defaults into floats
        return self.model_copy(update=cleared | {name: getattr(checked, name) for name in update})

    def schedule_arguments(self) -> dict[str, Any]:
        """TrainingArguments overrides of ``lr_schedule`` (none for ``linear``)."""
        if self.lr_schedule == "linear":
            return {}
        return {"lr_scheduler_type": "reduce_lr_on_plateau", "eval_strategy": "epoch",
                "metric_for_best_model": "loss", "prediction_loss_only": True,
                "lr_scheduler_kwargs": {"patience": self.plateau_patience,
                                        "factor": self.plateau_factor,
                                        "threshold": self.plateau_threshold}}

    def training(self) -> TrainingConfig:
        """The optimisation part, for :func:`harness.training.arguments.training_arguments`."""
        return TrainingConfig(epochs=self.epochs, batch_size=self.batch_size,
                              learning_rate=self.learning_rate,
                              max_device_batch_size=self.max_device_batch_size,
                              max_steps=self.max_steps, weight_decay=self.weight_decay,
                              warmup_ratio=self.warmup_ratio)


def set_trainable(model: PreTrainedModel, adapter: str, train_embeddings: bool,
                  train_head: bool = False) -> None:
    """Freeze everything but ``adapter`` (+ its invertible adapter) and, optionally, embeddings.

    adapters' ``train_adapter`` leaves flexible heads trainable; the LM head belongs to the
    frozen backbone, except its output matrix, which is tied to the input embeddings. Trained
    embeddings pass their lookup's gradient as the touched rows only (bitwise the same gradient,
    without two dense passes over the matrix: :mod:`harness.methods.unibridge.embedding_gradient`).
    ``train_head``: the LM head (a new one, :func:`replace_lm_head`) trains too, but for its
    output matrix, which follows ``train_embeddings``.
    """
    model.train_adapter(adapter)
    for parameter in model.heads.parameters():
        parameter.requires_grad_(train_head)
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
    if config.new_lm_head:
        replace_lm_head(model)
    model.add_adapter(ADAPTER_NAME, config=language_adapter_config(
        model, config.reduction_factor, config.inv_reduction_factor))
    set_trainable(model, ADAPTER_NAME, embeddings is not None and config.train_embeddings,
                  train_head=config.new_lm_head)


def replace_lm_head(model: PreTrainedModel) -> None:
    """Replace the backbone's LM head by a new one of its type, randomly initialised.

    As their ``add_masked_lm_head`` (xlm/UniBridge/MLM/model.py:78 at 6a38462): the head's
    layers get the model's own initialisation; adding it ties its output layer to the active
    input embeddings (adapters' ``add_prediction_head`` calls ``tie_weights``); its output bias
    is zero (:func:`harness.models.loading.tie_lm_heads`, which also sizes it to the vocabulary).
    """
    from harness.models.loading import lm_head, tie_lm_heads

    old = lm_head(model)
    head_type = old.config["head_type"]
    model.delete_head(old.name)
    add = {"masked_lm": model.add_masked_lm_head, "causal_lm": model.add_causal_lm_head,
           "seq2seq_lm": model.add_seq2seq_lm_head}[head_type]
    add(ADAPTER_NAME)
    tie_lm_heads(model)


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

    from harness.methods.unibridge.adaptation_trainer import (
        AdaptationTrainer,
        StudentIdsTeacher,
        TeacherStates,
    )

    started = time.time()
    set_seed(ctx.seed)
    pretrained = pretrained_path(backbone)
    model = load_adapter_model(pretrained).to(ctx.device)
    tokenizer = student_tokenizer(pretrained, embeddings)
    corpus = encode_corpus(read_corpus(corpus_file), tokenizer, config.max_length)
    features, validation = corpus.features, None
    if config.lr_schedule == "plateau":
        features, validation = hold_out(corpus.features, config.validation_fraction, ctx.seed)
    teacher = None
    if config.beta > 0 and config.teacher_input == "own_tokenizer":
        teacher = TeacherStates(model, load_backbone_tokenizer(pretrained), corpus.texts,
                                config.teacher_max_length)
    elif config.beta > 0:
        teacher = StudentIdsTeacher(model, dropout=config.teacher_dropout)
    prepare_student(model, tokenizer, embeddings, config)
    args = training_arguments(config.training(), work_dir, ctx, **config.schedule_arguments())
    trainer = log_metrics_to_logging(AdaptationTrainer(
        model=model, args=args, train_dataset=features, eval_dataset=validation,
        teacher=teacher, beta=config.beta,
        reading=config.pi_unibridge, kl_form=config.kl_form,
        decay_exclusion=config.decay_exclusion,
        data_collator=AdaptationCollator(
            objective_collator(backbone_arch(backbone), tokenizer, config.mask_probability)),
        callbacks=list(callbacks)))
    trained = train_resumably(trainer, work_dir)
    if config.new_lm_head:  # for the record: later stages read the adapter, not this head
        model.save_head(str(out / LM_HEAD_DIR), ADAPTER_NAME)
    return write_artifact(model, tokenizer, out, embeddings is not None, trained | {
        "losses": [entry for entry in trainer.state.log_history if "loss" in entry],
        "n_examples": len(features), "seconds": round(time.time() - started, 3)}
        | ({"n_validation": len(validation)} if validation is not None else {}))


def hold_out(features: list[dict[str, Any]], fraction: float,
             seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training, validation): ``ceil(fraction · n)`` examples, drawn with ``seed``, held out.

    As ``datasets``' ``train_test_split(test_size=fraction)`` of their loader sizes its test
    split (xlm/UniBridge/MLM/dataloader.py:38 at 6a38462); at least one example stays in training.
    """
    import math
    import random

    count = min(max(1, math.ceil(fraction * len(features))), len(features) - 1)
    held = set(random.Random(seed).sample(range(len(features)), count))
    return ([f for i, f in enumerate(features) if i not in held],
            [f for i, f in enumerate(features) if i in held])


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


#: Their language codes (train.sh) -> the harness's ISO 639-3 codes, for the rates set apart.
_XLM_RATES = {"aym": 7e-4, "cni": 7e-4, "grn": 7e-4, "nah": 7e-4, "oto": 7e-4, "quy": 7e-4,  # gn -> grn
              "rus": 2e-4}  # a source: train_src_mlm.py --lang ru --lr 2e-4
_MBERT_RATES = {"cni": 3e-4, "nah": 3e-4, "shp": 3e-4}


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md (stage 3). Targets: UniBridge/MLM (train_tgt_mlm.py, 50
    epochs, batch 32, 5e-4 but for the languages of ``learning_rates``); sources:
    UniBridgeSrc/MLM (train_src_mlm.py: MLM alone, 1e-3, batch 24 in xlm/ and 16 in mbert/,
    50 epochs in xlm/ and 20 in mbert/, AdamW decaying every parameter).
    """
    mbert = tree == "mbert"
    options: dict[str, Any] = {
        "kl_form": "authors_kl_div",
        "teacher_input": "student_ids",
        "teacher_dropout": True,
        "pi_unibridge": "raw_last_layer",
        "new_lm_head": True,
        "weight_decay": 0.01,
        "decay_exclusion": "bias_and_layernorm_name",
        "learning_rates": dict(_MBERT_RATES if mbert else _XLM_RATES),
        "lr_schedule": "plateau",  # the defaults of its settings are their targets' values
        "source": {"beta": 0.0, "learning_rate": 1e-3, "batch_size": 16 if mbert else 24,
                   "decay_exclusion": "none", "plateau_patience": 2, "plateau_factor": 0.1}
        | ({"epochs": 20} if mbert else {}),
    }
    if mbert:
        options["beta"] = 0.5  # mbert/UniBridge/MLM/pl_wrapper.py:65; xlm/ adds it with weight 1
    return options
