"""The ``finetune`` stage: full-model fine-tuning on the union of the source languages.

Example::

    stage = FinetuneStage(FinetuneConfig(task="ner", sources=("eng", "zho"), data={...}),
                          seed=1, backbone=backbone_stage)

Used by the zero-shot baseline (PAPER.md: 10 epochs, batch 32, lr 1e-5) and reusable by any
baseline that fine-tunes a whole model (EXTEND). Model selection: the checkpoint with the best
task score on the union of the *sources'* validation splits; no target data is read here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.data.source import DataRef
from harness.stages.evaluation import MODEL_DIR, TASK_HEAD, save_finetuned
from harness.tasks.reads import TRAINING_SPLITS, TaskRead, task_reads
from harness.tasks.specs import Encoded, Subword, TaskRef, TaskSpec, get_task, overflow_for
from harness.training.arguments import (
    TrainingConfig,
    log_metrics_to_logging,
    train_resumably,
    training_arguments,
)

if TYPE_CHECKING:
    import numpy as np

PAPER_FINETUNING = TrainingConfig(epochs=10, batch_size=32, learning_rate=1e-5)


class FinetuneConfig(StrictConfig):
    """Task, source languages with their data, and optimisation settings."""

    task: TaskRef
    sources: tuple[str, ...] = Field(min_length=1)
    data: dict[str, DataRef]
    training: TrainingConfig = PAPER_FINETUNING
    max_length: int = Field(128, gt=0)
    label_subword: Subword = "first"  # tagging: the subword carrying each word's label

    def data_reads(self) -> tuple[TaskRead, ...]:
        """The training and selection splits of every source."""
        return task_reads(self.task, self.data, TRAINING_SPLITS)


def load_split(task: TaskSpec, config: FinetuneConfig, split: str, tokenizer) -> tuple[list, Encoded]:
    """Examples and features of ``split`` for all sources, concatenated in source order.

    Long tagging sentences are truncated for training and windowed otherwise (:func:`overflow_for`).
    """
    examples = [ex for lang in config.sources for ex in task.load(config.data[lang].source, lang, split)]
    return examples, task.encode(examples, tokenizer, config.max_length, config.label_subword,
                                 overflow=overflow_for(split))


def score_function(task: TaskSpec, examples: list, encoded: Encoded):
    """A Trainer ``compute_metrics`` giving the task score on unpadded per-feature logits."""
    import numpy as np


    def compute(prediction) -> dict[str, float]:
        logits = prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        per_example = [
            _unpad(np.asarray(row), len(feature["input_ids"]), task)
            for row, feature in zip(logits, encoded.features)
        ]
        return {"score": task.score(examples, task.predict(encoded, per_example))}

    return compute


def _unpad(row: np.ndarray, length: int, task: TaskSpec):
    import torch

    tensor = torch.from_numpy(row)
    return tensor[:length] if task.kind == "tagging" else tensor


class FinetuneStage(Stage):
    """Fine-tune every parameter of the backbone plus a task head."""

    kind = "finetune"
    uses_device = True
    version = 6  # 2: head saved apart; 3: label_subword; 4: seeded before the model is built;
    # 5: UD hub rows skip empty nodes (harness.data.ud); 6: validation scored in windows

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Train, select on source validation data, save ``model/`` and ``training.json``."""
        from transformers import AutoTokenizer, Trainer

        from harness.models.backbones import pretrained_path
        from harness.models.heads import add_task_head
        from harness.models.loading import load_adapter_model

        config: FinetuneConfig = self.config
        task = get_task(config.task)
        pretrained = pretrained_path(inputs["backbone"])
        tokenizer = AutoTokenizer.from_pretrained(pretrained)
        model = load_adapter_model(pretrained)
        add_task_head(model, TASK_HEAD, task)
        train_examples, train = load_split(task, config, "train", tokenizer)
        dev_examples, dev = load_split(task, config, "validation", tokenizer)
        args = training_arguments(
            config.training, ctx.partial_dir(self), ctx, eval_strategy="epoch",
            load_best_model_at_end=True, metric_for_best_model="score", greater_is_better=True,
        )
        trainer = log_metrics_to_logging(Trainer(
            model=model, args=args, train_dataset=train.features, eval_dataset=dev.features,
            data_collator=task.collator(tokenizer), compute_metrics=score_function(task, dev_examples, dev)))
        summary = train_resumably(trainer, args.output_dir)
        save_finetuned(trainer.model, tokenizer, out / MODEL_DIR)
        summary |= {"best_validation_score": trainer.state.best_metric,
                   "n_train": len(train_examples)}
        atomic_write_text(out / "training.json", json.dumps(summary, indent=2))

    def schedule(self) -> TrainingConfig:
        """The optimisation schedule (what ``plan`` costs)."""
        return self.config.training

    def summary(self, artifact: Path) -> dict:
        """Training loss and the selected checkpoint's source-validation score."""
        return json.loads((artifact / "training.json").read_text())
