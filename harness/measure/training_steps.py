"""Stage 3 and stage 4 training steps on randomly initialised encoders, as the stages build them.

Example::

    shape = EncoderShape(layers=2, hidden=768, heads=12, ffn=3072, vocab=250_002)
    setup = language_adaptation_setup("xlmr", shape, folder, batch=32)
    batch = mlm_batch(setup, StepShape(32, 128), generator)
    loss = setup.step(batch)          # forward, backward, clipping, AdamW, zero_grad

For the FLOP-counted benchmark (benchmarks/training_flops.py) and the tests that check its count
and the training path's equivalences (tests/test_flops.py, tests/unibridge/test_training_equivalence.py).
The model comes from a config (no hub); everything after that is the stages' own code: the
adapters model (:func:`harness.models.loading.load_adapter_model`), stage 3's student
(:func:`harness.methods.unibridge.adaptation.set_trainable`, the language adapter config, new target
embeddings tied to the LM head) and :class:`AdaptationTrainer` with a :class:`TeacherStates`;
stage 4's :func:`harness.methods.unibridge.task_adapters.add_task_adapter` on a language adapter, with
adapters' ``AdapterTrainer``. A step is what the Trainer's inner loop does per batch with these
arguments: ``training_step`` (loss, backward), gradient clipping at ``max_grad_norm``, the
Trainer's own optimizer (fused AdamW for torch ≥ 2.8) and scheduler, ``zero_grad``; with fp16
on CUDA, the Trainer's gradient scaler unscales before clipping and steps the optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import BatchEncoding, BertConfig, BertForMaskedLM, XLMRobertaConfig, XLMRobertaForMaskedLM

from harness.core.graph import StageContext
from harness.measure.flops import EncoderShape, StepShape
from harness.models.loading import install_target_embeddings, language_adapter_config, load_adapter_model
from harness.training.arguments import TrainingConfig, precision_flags, training_arguments

MASK_ID, PAD_ID = 4, 1
FIRST_ORDINARY_ID = 5
#: (config class, model class) per architecture; both are masked LMs with a tied output layer.
ARCHS = {"xlmr": (XLMRobertaConfig, XLMRobertaForMaskedLM), "bert": (BertConfig, BertForMaskedLM)}
#: The paper's shapes: XLM-R base and mBERT (cased), 12 layers, hidden 768, 12 heads, FFN 3072.
PAPER_SHAPES = {"xlmr": EncoderShape(12, 768, 12, 3072, 250_002),
                "bert": EncoderShape(12, 768, 12, 3072, 119_547)}


class VocabStub:
    """What :func:`install_target_embeddings` reads from a tokenizer: its length and padding id."""

    def __init__(self, size: int):
        self.size, self.pad_token_id = size, PAD_ID

    def __len__(self) -> int:
        return self.size


class RandomTokenizer:
    """The KL teacher's tokenizer stand-in: ``length`` random ids per text, fixed by the text."""

    def __init__(self, vocab: int, length: int):
        self.vocab, self.length = vocab, length

    def __call__(self, texts, **_) -> BatchEncoding:
        """A batch of ``len(texts)`` × ``length`` ids, all real tokens."""
        seed = sum(hash(text) % 10_007 for text in texts)
        generator = torch.Generator().manual_seed(seed)
        ids = torch.randint(FIRST_ORDINARY_ID, self.vocab, (len(texts), self.length), generator=generator)
        return BatchEncoding({"input_ids": ids, "attention_mask": torch.ones_like(ids)})


def random_encoder(arch: str, shape: EncoderShape, folder: Path, seed: int = 0) -> nn.Module:
    """A randomly initialised masked LM of ``shape`` saved to ``folder``, loaded as the stages do."""
    config_class, model_class = ARCHS[arch]
    config = config_class(vocab_size=shape.vocab, hidden_size=shape.hidden,
                          num_hidden_layers=shape.layers, num_attention_heads=shape.heads,
                          intermediate_size=shape.ffn, max_position_embeddings=514,
                          pad_token_id=PAD_ID)
    torch.manual_seed(seed)
    model_class(config).save_pretrained(folder)
    return load_adapter_model(str(folder))


@dataclass
class TrainingSetup:
    """A model, its Trainer (optimizer and scheduler created) and the step the Trainer runs."""

    model: nn.Module
    trainer: Any
    vocab: int
    #: autocast dtype of the forward pass (CUDA: the stages' fp16; None: float32 throughout)
    autocast: torch.dtype | None = None

    def trainable(self) -> list[nn.Parameter]:
        """The parameters the optimizer updates."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def step(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """One optimisation step on ``batch`` (the Trainer's inner loop, one micro-batch)."""
        trainer = self.trainer
        device = trainer.args.device.type
        with torch.autocast(device, dtype=self.autocast or torch.float32, enabled=self.autocast is not None):
            loss = trainer.training_step(self.model, dict(batch))
        scaler = getattr(trainer.accelerator, "scaler", None)  # fp16 on CUDA: the loss was scaled
        if scaler is not None:
            scaler.unscale_(trainer.optimizer)
        torch.nn.utils.clip_grad_norm_(self.trainable(), trainer.args.max_grad_norm)
        if scaler is not None:
            scaler.step(trainer.optimizer)
            scaler.update()
        else:
            trainer.optimizer.step()
        trainer.lr_scheduler.step()
        self.model.zero_grad()
        return loss


def _trainer(trainer_class, model, batch: int, device: str, output_dir: Path, **kwargs):
    """A Trainer whose optimizer and scheduler exist; it saves nothing into ``output_dir``."""
    args = training_arguments(TrainingConfig(epochs=1, batch_size=batch, learning_rate=5e-4),
                              output_dir, StageContext(device=device, progress=False))
    trainer = trainer_class(model=model, args=args, **kwargs)
    trainer.create_optimizer_and_scheduler(num_training_steps=1000)
    trainer.current_gradient_accumulation_steps = args.gradient_accumulation_steps  # set by train()
    return trainer


def language_adaptation_setup(arch: str, shape: EncoderShape, folder: Path, batch: int,
                              target_vocab: int | None = None, beta: float = 1.0,
                              teacher_length: int = 128, seed: int = 0, device: str = "cpu") -> TrainingSetup:
    """Stage 3's student with a MAD-X language adapter + invertible adapter and the KL term.

    ``target_vocab``: rows of new trainable target embeddings; None: the backbone's own
    embeddings, frozen, as for a source language.
    """
    from harness.methods.unibridge.adaptation import ADAPTER_NAME, set_trainable
    from harness.methods.unibridge.adaptation_trainer import AdaptationTrainer, TeacherStates

    model = random_encoder(arch, shape, folder, seed)
    teacher = TeacherStates(model, RandomTokenizer(shape.vocab, teacher_length),
                            [f"sentence {i}" for i in range(100_000)], teacher_length)
    if target_vocab is not None:
        generator = torch.Generator().manual_seed(seed + 1)
        matrix = torch.randn(target_vocab, shape.hidden, generator=generator) * 0.02
        install_target_embeddings(model, VocabStub(target_vocab), matrix, "target")
    torch.manual_seed(seed + 2)
    model.add_adapter(ADAPTER_NAME, config=language_adapter_config(model))
    set_trainable(model, ADAPTER_NAME, train_embeddings=target_vocab is not None)
    trainer = _trainer(AdaptationTrainer, model.to(device), batch, device, folder / "trainer",
                       teacher=teacher, beta=beta)
    return TrainingSetup(model, trainer, target_vocab or shape.vocab, autocast_dtype(device))


def task_adapter_setup(arch: str, shape: EncoderShape, folder: Path, batch: int,
                       seed: int = 0, device: str = "cpu") -> TrainingSetup:
    """Stage 4: a WikiANN NER task adapter (7 tags) on a frozen source-language adapter."""
    from adapters import AdapterTrainer

    from harness.methods.unibridge.task_adapters import LANGUAGE, add_task_adapter
    from harness.tasks.specs import get_task

    model = random_encoder(arch, shape, folder, seed)
    torch.manual_seed(seed + 2)
    model.add_adapter(LANGUAGE, config=language_adapter_config(model))
    add_task_adapter(model, get_task("ner"), reduction_factor=16)
    trainer = _trainer(AdapterTrainer, model.to(device), batch, device, folder / "trainer")
    return TrainingSetup(model, trainer, shape.vocab, autocast_dtype(device))


def autocast_dtype(device: str) -> torch.dtype | None:
    """fp16 on CUDA, as :func:`harness.training.arguments.training_arguments` sets; none on the CPU."""
    return torch.float16 if precision_flags(device, "auto")["fp16"] else None


def mlm_batch(setup: TrainingSetup, step: StepShape, generator: torch.Generator,
              first_example: int = 0) -> dict[str, torch.Tensor]:
    """A masked-LM batch of random ids, 15 % masked; ``example_index`` from ``first_example``."""
    ids = torch.randint(FIRST_ORDINARY_ID, setup.vocab, (step.batch, step.length), generator=generator)
    masked = torch.rand(step.batch, step.length, generator=generator) < 0.15
    return {"input_ids": ids.masked_fill(masked, MASK_ID), "attention_mask": torch.ones_like(ids),
            "labels": ids.masked_fill(~masked, -100),
            "example_index": torch.arange(first_example, first_example + step.batch)}


def tagging_batch(setup: TrainingSetup, step: StepShape, labels: int,
                  generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A tagging batch of random ids with a label at about 70 % of positions (first subwords)."""
    ids = torch.randint(FIRST_ORDINARY_ID, setup.vocab, (step.batch, step.length), generator=generator)
    tags = torch.randint(0, labels, (step.batch, step.length), generator=generator)
    unlabelled = torch.rand(step.batch, step.length, generator=generator) >= 0.7
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids),
            "labels": tags.masked_fill(unlabelled, -100)}
