"""Stage 4 of UniBridge: one task adapter per source language (PAPER.md "Stage 4").

Example::

    config = TaskAdapterConfig().for_task("ner", "eng", DataRef.of(wikiann))
    stage = TaskAdapterStage(config, seed=1, backbone=backbone, language=eng_language_adapter)
    path = cache.materialize(stage, ctx)          # adapter/ (task adapter + head), training.json

    load_task_adapter(model, path, "task_eng")    # at inference (stage 5)

The task adapter (``SeqBnConfig``, reduction factor 16, as the authors' code) is stacked on the
source language's adapter, ``Stack(language, task)``, with the source language's embeddings
and invertible adapter active; only the task adapter and its prediction head train (the
backbone, the embeddings and the language adapter stay frozen). Paper settings: 11 epochs,
batch 32, learning rate from {5e-4, 1e-3} (default 5e-4; the suite may pick 1e-3).

Model selection (PAPER.md "Model selection"): the checkpoint of the epoch with the best task
score on the *source* language's validation split; no test split is read. Training runs with
adapters' ``AdapterTrainer``, whose checkpoints (in ``ctx.partial_dir``) hold the adapters and
the head only, so a killed run resumes without saving the backbone every epoch.
Silent in the paper, exposed here: ``max_length`` 128 (the usual cross-lingual setting) and
``max_device_batch_size`` (gradient accumulation makes up the effective batch of 32).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.data.source import DataRef
from harness.tasks.reads import TRAINING_SPLITS, TaskRead
from harness.tasks.specs import Subword, TaskRef, TaskSpec, overflow_for
from harness.training.arguments import TrainingConfig

log = logging.getLogger(__name__)

LANGUAGE = "language"
TASK = "task"
ADAPTER_DIR = "adapter"
TRAINING_FILE = "training.json"


class TaskAdapterConfig(StrictConfig):
    """Task-adapter hyperparameters (paper defaults; the suite's ``task_adapter:`` section)."""

    reduction_factor: int = Field(16, gt=0)
    epochs: float = Field(11, gt=0)
    batch_size: int = Field(32, gt=0)
    learning_rate: float = Field(5e-4, gt=0)
    max_length: int = Field(128, gt=0)
    max_device_batch_size: int = Field(32, gt=0)
    max_steps: int | None = Field(None, gt=0)

    def training(self) -> TrainingConfig:
        """The optimisation settings as :func:`harness.training.arguments.training_arguments` takes them."""
        return TrainingConfig(epochs=self.epochs, batch_size=self.batch_size,
                              learning_rate=self.learning_rate,
                              max_device_batch_size=self.max_device_batch_size,
                              max_steps=self.max_steps)

    def for_task(self, task: TaskRef, source: str, data: DataRef,
                 label_subword: Subword = "first") -> TaskAdapterJob:
        """The stage config that trains this task's adapter on ``source``'s data.

        ``label_subword``: where tagging labels go (:func:`harness.tasks.specs.label_subword`).
        """
        return TaskAdapterJob(task=task, source=source, data=data, adapter=self,
                              label_subword=label_subword)


class TaskAdapterJob(StrictConfig):
    """Stage-4 config: which task, which source language and its data, and the hyperparameters.

    ``data`` is a :class:`DataRef`, so the training data's content fingerprint is part of the key.
    ``label_subword``: the subword that carries a word's tag (the suite's choice, resolved for
    the backbone; stage 5 must read predictions at the same one).
    """

    task: TaskRef
    source: str
    data: DataRef
    adapter: TaskAdapterConfig = TaskAdapterConfig()
    label_subword: Subword = "first"

    def data_reads(self) -> tuple[TaskRead, ...]:
        """The training and selection splits of the source."""
        return (TaskRead(self.task, self.source, self.data.source, TRAINING_SPLITS),)


def add_task_adapter(model, task: TaskSpec, reduction_factor: int, language: str = LANGUAGE,
                     name: str = TASK) -> None:
    """Add task adapter + head ``name`` on top of adapter ``language``, ready to train.

    Afterwards the active setup is ``Stack(language, name)`` and only the task adapter and its
    head require gradients.
    """
    from adapters import SeqBnConfig
    from adapters.composition import Stack

    from harness.models.heads import add_task_head

    model.add_adapter(name, config=SeqBnConfig(reduction_factor=reduction_factor))
    add_task_head(model, name, task)
    model.train_adapter(name)
    model.set_active_adapters(Stack(language, name))


def load_task_adapter(model, artifact: Path, name: str) -> str:
    """Load a ``task_adapter`` artifact's adapter and head into ``model`` as ``name`` (not activated)."""
    from harness.models.heads import register_task_heads, remove_lm_heads

    remove_lm_heads(model)
    register_task_heads(model)
    return model.load_adapter(str(Path(artifact) / ADAPTER_DIR), load_as=name, with_head=True,
                              set_active=False)


class TaskAdapterStage(Stage):
    """Train one source language's task adapter (inputs ``backbone`` and ``language``)."""

    kind = "task_adapter"
    uses_device = True
    version = 5  # 2: last subword on causal backbones; 3: whole-training loss, complete checkpoints
    # only; 4: UD hub rows skip empty nodes (harness.data.ud); 5: validation scored in windows

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Train on the source's train split, select on its validation split, save ``adapter/``."""
        from adapters import AdapterTrainer

        from harness.models.backbones import pretrained_path
        from harness.models.loading import load_adapter_model, load_language
        from harness.stages.finetune import score_function
        from harness.tasks.specs import get_task
        from harness.training.arguments import log_metrics_to_logging, train_resumably, training_arguments

        config: TaskAdapterJob = self.config
        task = get_task(config.task)
        model = load_adapter_model(pretrained_path(inputs["backbone"]))
        tokenizer = load_language(model, inputs["language"], LANGUAGE)
        add_task_adapter(model, task, config.adapter.reduction_factor)
        splits = {split: self._split(task, tokenizer, split) for split in ("train", "validation")}
        (train_examples, train), (dev_examples, dev) = splits["train"], splits["validation"]
        args = training_arguments(
            config.adapter.training(), ctx.partial_dir(self), ctx, eval_strategy="epoch",
            load_best_model_at_end=True, metric_for_best_model="score", greater_is_better=True,
        )
        trainer = log_metrics_to_logging(AdapterTrainer(
            model=model, args=args, train_dataset=train.features, eval_dataset=dev.features,
            data_collator=task.collator(tokenizer), compute_metrics=score_function(task, dev_examples, dev)))
        summary = train_resumably(trainer, args.output_dir)
        model.save_adapter(str(out / ADAPTER_DIR), TASK, with_head=True)
        summary |= {"best_validation_score": trainer.state.best_metric,
                   "n_train": len(train_examples), "n_validation": len(dev_examples)}
        atomic_write_text(out / TRAINING_FILE, json.dumps(summary, indent=2))

    def schedule(self) -> TrainingConfig:
        """The optimisation schedule (what ``plan`` costs)."""
        return self.config.adapter.training()

    def _split(self, task: TaskSpec, tokenizer, split: str):
        config: TaskAdapterJob = self.config
        examples = task.load(config.data.source, config.source, split)
        return examples, task.encode(examples, tokenizer, config.adapter.max_length,
                                     config.label_subword, overflow=overflow_for(split))

    def summary(self, artifact: Path) -> dict[str, Any]:
        """Training loss and the selected epoch's source-validation score."""
        return json.loads((artifact / TRAINING_FILE).read_text(encoding="utf-8"))


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md. Empty: this stage follows the text in both trees.
    """
    return {}
