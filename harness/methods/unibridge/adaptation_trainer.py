"""Stage 3's training step: L = L_MLM + β·KL (PAPER.md Eq. 9), and the KL teacher's states.

Example::

    teacher = TeacherStates(model, backbone_tokenizer, corpus.texts, max_length=256)
    prepare_student(model, tokenizer, embeddings, config)      # adapters and new embeddings
    trainer = AdaptationTrainer(model=model, args=args, teacher=teacher, beta=1.0, ...)

Kept apart from :mod:`harness.methods.unibridge.adaptation` (the stage and its config), so that planning
a suite imports no torch.

Two costs that dominate at real scale (XLM-R: 250K vocabulary, 12 layers) are avoided here,
each giving exactly the loss of the straightforward computation:

- **MLM logits only where a token is masked.** A masked LM's loss reads the logits of the masked
  positions only (labels -100 elsewhere), so the LM head's output layer — a 250K-way matrix
  product — runs on those rows (~15 %) instead of every position (:func:`masked_lm_loss`).
  Causal LMs (mGPT) and mBART's decoder predict every position: their loss is the model's own.
- **The KL teacher per batch, cached.** The teacher is the original backbone (default
  embeddings, no adapters, eval mode). :class:`TeacherStates` runs it on the sentences of a
  batch the first time they are seen and keeps their pooled states, instead of a pass over the
  whole corpus before the first step: a run capped by ``max_steps`` reads only the sentences it
  trains on. Its weights are the student's frozen ones, switched to the plain setup for the
  teacher's forward (:func:`plain_backbone`), so no second copy of the model is held.

A sentence's pooled state depends, in its last bits, on the batch it was first computed in (the
padded length sets the shapes of the teacher's matrix products, hence their summation order).
So the states computed so far are resume state, like the RNG's: each resumable checkpoint holds
them (:data:`harness.training.kept_checkpoints.TEACHER_STATES_FILE`) and a resumed training
starts from them, instead of recomputing them in the batches of later epochs, which changed the
KL gradient in its last bits and the trained weights in their 9th digit (docs/choices.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Trainer

from harness.methods.unibridge.kl import KL_FORMS, KLForm, mean_pool
from harness.methods.unibridge.objectives import EXAMPLE_INDEX
from harness.models.loading import (
    HEAD_INPUT,
    LAST_LAYER,
    RAW_LAST_LAYER,
    PiReading,
    head_input,
    invert,
    last_hidden_state,
    lm_head,
    output_states,
)
from harness.training.kept_checkpoints import TEACHER_STATES_FILE

log = logging.getLogger(__name__)

IGNORE_INDEX = -100


def pooled_teacher_batch(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                         texts: Sequence[str], max_length: int) -> Tensor:
    """π_PLM before the softmax for ``texts``: mean-pooled last hidden state, float32, CPU."""
    device = next(model.parameters()).device
    batch = tokenizer(list(texts), truncation=True, padding=True, max_length=max_length,
                      return_tensors="pt").to(device)
    with torch.no_grad():
        hidden = last_hidden_state(model, batch["input_ids"], batch["attention_mask"])
    return mean_pool(hidden.float(), batch["attention_mask"]).cpu()


def teacher_states(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                   max_length: int, batch_size: int = 32, progress: bool = False) -> Tensor:
    """π_PLM of every text at once, running ``model`` as it is (before adapters), in eval mode.

    Returns:
        float32 tensor [len(texts), hidden] on the CPU.
    """
    was_training = model.training
    model.eval()
    pooled = [pooled_teacher_batch(model, tokenizer, texts[start:start + batch_size], max_length)
              for start in tqdm(range(0, len(texts), batch_size), desc="KL teacher",
                                disable=not progress, leave=False)]
    model.train(was_training)
    return torch.cat(pooled)


@contextmanager
def plain_backbone(model: PreTrainedModel, train: bool = False) -> Iterator[PreTrainedModel]:
    """``model`` as the original backbone for the duration: default embeddings, no adapters, eval.

    The LM heads stay tied to the active (target) embeddings: the teacher reads the encoder only.
    ``train``: in train mode instead (dropout on).
    """
    embeddings = getattr(model, "active_embeddings", "default")
    adapters, was_training = model.active_adapters, model.training
    model.set_active_embeddings("default")
    model.set_active_adapters(None)
    model.train(train)
    try:
        yield model
    finally:
        model.set_active_embeddings(embeddings)
        model.set_active_adapters(adapters)
        model.train(was_training)


class TeacherStates:
    """π_PLM per corpus example, computed for a batch the first time it is needed, then kept.

    The states kept so far travel in checkpoints (:meth:`state_dict`, :meth:`load_state_dict`):
    recomputed in another batch, a sentence's state may differ in its last bits.

    Example::

        teacher = TeacherStates(model, backbone_tokenizer, corpus.texts, max_length=256)
        teacher(torch.tensor([5, 0, 3]))        # [3, hidden]; computes the three, keeps them
        resumed = TeacherStates(model, backbone_tokenizer, corpus.texts, max_length=256)
        resumed.load_state_dict(teacher.state_dict())   # resumed(...) gives the same bits
    """

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 texts: Sequence[str], max_length: int):
        self.model, self.tokenizer, self.texts, self.max_length = model, tokenizer, texts, max_length
        self.cache: dict[int, Tensor] = {}

    def __call__(self, index: Tensor) -> Tensor:
        """States [len(index), hidden] of the examples ``index``, on the CPU."""
        wanted = index.tolist()
        missing = sorted({i for i in wanted if i not in self.cache})
        if missing:
            with plain_backbone(self.model):
                pooled = pooled_teacher_batch(self.model, self.tokenizer,
                                              [self.texts[i] for i in missing], self.max_length)
            self.cache.update(zip(missing, pooled))
        return torch.stack([self.cache[i] for i in wanted])

    def state_dict(self) -> dict[str, Tensor]:
        """The states kept so far: ``index`` (int64 [n], ascending) and ``states`` ([n, hidden])."""
        index = sorted(self.cache)
        states = (torch.stack([self.cache[i] for i in index]) if index
                  else torch.empty(0, 0, dtype=torch.float32))
        return {"index": torch.tensor(index, dtype=torch.int64), "states": states}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Keep the states of ``state`` (from :meth:`state_dict`), bit for bit, as if computed here."""
        self.cache.update(zip(state["index"].tolist(), state["states"]))


class StudentIdsTeacher:
    """π_PLM of a batch read as the student reads it: its (masked, new-vocabulary) input ids.

    The authors' teacher (``teacher_input: student_ids``; xlm/UniBridge/MLM/pl_wrapper.py:59-61
    at 6a38462): the original backbone, with its original embeddings and no adapters, runs on
    the student's batch as it is, so a target-vocabulary id reads whatever backbone token has
    that id. The ids change with every step's masking, so nothing is cached: it runs at every
    step (before the student's forward pass, as theirs), and a resumed training gives the same
    states as an uninterrupted one because the batches (and, with ``dropout``, the RNG) do.

    Example::

        teacher = StudentIdsTeacher(model)        # before prepare_student
        pooled = teacher(batch["input_ids"], batch["attention_mask"])     # [batch, hidden]
    """

    def __init__(self, model: PreTrainedModel, dropout: bool = False):
        self.model, self.dropout = model, dropout

    def __call__(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Mean-pooled last hidden state [batch, hidden], float32, on the batch's device.

        Raises:
            ValueError: an id is beyond the backbone's vocabulary (a target vocabulary larger
                than the backbone's, where their code would fail in the embedding lookup).
        """
        with plain_backbone(self.model, train=self.dropout):
            rows = self.model.get_input_embeddings().num_embeddings
            if int(input_ids.max()) >= rows:
                raise ValueError(f"teacher_input student_ids: id {int(input_ids.max())} is beyond "
                                 f"the backbone's {rows} embeddings")
            with torch.no_grad():
                hidden = last_hidden_state(self.model, input_ids, attention_mask)
        return mean_pool(hidden.float(), attention_mask)


def is_masked_lm(model: PreTrainedModel) -> bool:
    """Whether the model's LM head is a masked LM's (XLM-R, mBERT)."""
    return lm_head(model).config["head_type"] == "masked_lm"


def masked_lm_loss(model: PreTrainedModel, hidden: Tensor, labels: Tensor) -> Tensor:
    """The MLM cross-entropy from the last hidden state, with logits at masked positions only.

    The LM head's layers before its output layer and the inverse invertible adapter act on each
    position alone (:func:`harness.models.loading.head_input`), so applying the head to the masked rows
    gives those rows' logits exactly; the loss is their mean cross-entropy, as the head's own.
    A batch with no masked token has nothing to predict: its loss is 0 (the head's own would be
    the NaN of an empty mean, which stops the job as a diverged training). The rows leave their
    batch dimension before the output layer, not after: the same matrix product, but the
    gradient of the [1, masked, vocabulary] logits' indexing (a zero fill and a copy of 600 MB
    per step at XLM-R's vocabulary and batch 32) shrinks to [1, masked, hidden].
    """
    masked = labels != IGNORE_INDEX
    if not masked.any():
        return hidden.sum() * 0.0
    rows = hidden[masked].unsqueeze(0)  # [1, masked, hidden]: the adapter layers want 3 dimensions
    logits = lm_head(model)[-1](head_input(model, rows)[0])
    return F.cross_entropy(logits.float(), labels[masked])


class AdaptationTrainer(Trainer):
    """A Trainer whose loss is Eq. 9 and whose checkpoints hold only the trainable parameters.

    ``teacher``: the teacher's pooled states of the examples of a batch, from their
    ``example_index`` (a :class:`TeacherStates`, or a tensor of every example's states).
    Logs ``mlm_loss`` (the LM objective, whatever the architecture) and ``kl`` next to ``loss``.
    """

    def __init__(self, *args, teacher: Callable[[Tensor], Tensor] | Tensor | StudentIdsTeacher | None,
                 beta: float, reading: PiReading = LAST_LAYER, kl_form: KLForm = "kl",
                 decay_exclusion: str = "norm_and_bias", **kwargs):
        super().__init__(*args, **kwargs)
        if beta > 0 and teacher is None:
            raise ValueError("beta > 0 needs the teacher's pooled states")
        self.teacher, self.beta, self.reading = teacher, beta, reading
        self.kl = KL_FORMS[kl_form]
        self.decay_exclusion = decay_exclusion
        self._validating = False
        # the loss below is a mean per micro-batch: let the Trainer divide by accumulation steps
        self.model_accepts_loss_kwargs = False
        self._sums: dict[str, Tensor | float] = {}
        self._count = 0

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """L = L_MLM + β · KL(π_UniBridge ‖ π_PLM) (Eq. 9)."""
        index = inputs.pop(EXAMPLE_INDEX)
        if self._validating:  # validation (``lr_schedule: plateau``): the LM objective alone
            outputs = model(**inputs)
            return (outputs.loss, outputs) if return_outputs else outputs.loss
        teacher = None
        if self.beta > 0 and isinstance(self.teacher, StudentIdsTeacher):  # theirs runs it first
            teacher = self.teacher(inputs["input_ids"], inputs["attention_mask"])
        if is_masked_lm(model) and not return_outputs:
            parts, student = self._masked_lm_parts(model, inputs)
            outputs = None
        else:
            parts, student, outputs = self._model_parts(model, inputs)
        if self.beta > 0:
            pooled = mean_pool(student.float(), inputs["attention_mask"])
            if teacher is None:
                teacher = self._teacher_for(index)
            parts["kl"] = self.kl(pooled, teacher.to(pooled.device))
        loss = parts["mlm_loss"] + self.beta * parts.get("kl", 0.0)
        for name, value in parts.items():
            self._sums[name] = self._sums.get(name, 0.0) + value.detach()
        self._count += 1
        return (loss, outputs) if return_outputs else loss

    def _masked_lm_parts(self, model, inputs) -> tuple[dict[str, Tensor], Tensor | None]:
        """MLM loss from the masked rows only; π_UniBridge states from the same forward pass."""
        hidden = last_hidden_state(model, inputs["input_ids"], inputs["attention_mask"])
        parts = {"mlm_loss": masked_lm_loss(model, hidden, inputs["labels"])}
        if self.beta <= 0:
            return parts, None
        if self.reading == RAW_LAST_LAYER:
            return parts, hidden
        return parts, invert(model, hidden) if self.reading == LAST_LAYER else head_input(model, hidden)

    def _model_parts(self, model, inputs) -> tuple[dict[str, Tensor], Tensor | None, Any]:
        """The model's own loss (causal LM, mBART denoising) and its π_UniBridge states."""
        use_kl = self.beta > 0
        # the encoder's last state is in every seq2seq output; other states need hidden_states
        needs_states = not model.config.is_encoder_decoder or self.reading == HEAD_INPUT
        outputs = model(**inputs, output_hidden_states=use_kl and needs_states)
        student = output_states(model, outputs, self.reading) if use_kl else None
        return {"mlm_loss": outputs.loss}, student, outputs

    def prediction_step(self, *args, **kwargs):
        """The Trainer's, with :meth:`compute_loss` giving the LM objective alone (no KL, no logs).

        Evaluation runs only for ``lr_schedule: plateau``, whose validation loss is their
        ``validation_step``'s MLM loss (xlm/UniBridge/MLM/pl_wrapper.py:74-78 at 6a38462).
        """
        self._validating = True
        try:
            return super().prediction_step(*args, **kwargs)
        finally:
            self._validating = False

    def get_decay_parameter_names(self, model) -> list[str]:
        """The parameters AdamW decays (``weight_decay`` > 0), by ``decay_exclusion``.

        ``norm_and_bias``: the Trainer's rule (not biases, not norm layers). ``bias_and_layernorm_name``:
        not those whose name holds ``bias`` or ``LayerNorm.weight`` (the authors' targets,
        xlm/UniBridge/MLM/pl_wrapper.py:83 at 6a38462: a new head's norm layer, named
        ``heads.<name>.2``, is decayed). ``none``: every one (their sources,
        UniBridgeSrc/MLM/pl_wrapper.py:44).
        """
        if self.decay_exclusion == "norm_and_bias":
            return super().get_decay_parameter_names(model)
        names = [name for name, _ in model.named_parameters()]
        if self.decay_exclusion == "none":
            return names
        return [name for name in names if "bias" not in name and "LayerNorm.weight" not in name]

    def _teacher_for(self, index: Tensor) -> Tensor:
        if isinstance(self.teacher, Tensor):
            return self.teacher[index.to(self.teacher.device)]
        return self.teacher(index.cpu())

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        """Add the mean ``mlm_loss`` and ``kl`` since the last log to a training log."""
        if "loss" in logs and self._count:
            logs.update({name: round(float(total) / self._count, 6)
                         for name, total in self._sums.items()})
            self._sums, self._count = {}, 0
        super().log(logs, *args, **kwargs)

    def train(self, resume_from_checkpoint: str | bool | None = None, *args, **kwargs):
        """:meth:`Trainer.train`, taking up the teacher's states kept in ``resume_from_checkpoint``.

        Those states were computed in the batches of the uninterrupted training; without them a
        resumed training would compute them in later batches, in other bits (module docstring).
        A checkpoint without them (written before they were kept) resumes with none.
        """
        if isinstance(self.teacher, TeacherStates) and isinstance(resume_from_checkpoint, str | Path):
            path = Path(resume_from_checkpoint) / TEACHER_STATES_FILE
            if path.is_file():
                self.teacher.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            else:
                log.warning("%s holds no KL teacher states: the resumed training recomputes them "
                            "and may differ from an uninterrupted one in the last bits",
                            resume_from_checkpoint)
        return super().train(resume_from_checkpoint, *args, **kwargs)

    def _save_rng_state(self, output_dir: str) -> None:
        # called for the checkpoints a training resumes from (not the lean last one), before the
        # completion marker: the teacher's states so far are resume state like the RNG's
        super()._save_rng_state(output_dir)
        if isinstance(self.teacher, TeacherStates) and self.args.should_save:
            torch.save(self.teacher.state_dict(), Path(output_dir) / TEACHER_STATES_FILE)

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        trainable = {name: parameter.detach() for name, parameter in self.model.named_parameters()
                     if parameter.requires_grad}
        super()._save(output_dir, state_dict=trainable)

    def _issue_warnings_after_load(self, load_result) -> None:
        # checkpoints deliberately omit the frozen backbone; only a missing trainable one is wrong
        trainable = {name for name, p in self.model.named_parameters() if p.requires_grad}
        missing = trainable & set(load_result.missing_keys)
        if missing or load_result.unexpected_keys:
            raise RuntimeError(f"checkpoint does not fit the model: missing {sorted(missing)}, "
                               f"unexpected {sorted(load_result.unexpected_keys)}")
