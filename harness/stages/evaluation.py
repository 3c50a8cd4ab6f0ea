"""Batched prediction and the ``evaluation`` stage for full (non-adapter) task models.

Example::

    logits = predict_logits(model, task.collator(tokenizer), encoded.features, batch_size=32)
    value = task.score(examples, task.predict(encoded, logits))

The evaluation stage reads only the target language's evaluation split (``test`` by default),
after model selection has happened upstream on source validation data. A tagging sentence
longer than ``max_length`` is predicted in overlapping windows (``overflow="window"`` of
:meth:`harness.tasks.specs.TaskSpec.encode`); ``metrics.json`` details count the words and
examples that needed them (``windowed_words``, ``windowed_examples``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from tqdm.auto import tqdm

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.data.source import DataRef
from harness.tasks.reads import TaskRead
from harness.tasks.specs import Subword, TaskRef, TaskSpec, get_task

if TYPE_CHECKING:
    import torch

MODEL_DIR = "model"
HEAD_DIR = "head"
TASK_HEAD = "task"
#: The ``version`` of both ``evaluation`` stages (this module's :class:`ModelEvaluationStage` and
#: :class:`harness.methods.unibridge.inference.MultiSourceEvaluationStage`): what they compute
#: changes together. 2: tagging predictions read at the last subword on causal backbones;
#: 3: UD hub rows skip empty nodes (harness.data.ud); 4: long sentences in windows;
#: 5: predictions and per-example counts kept (harness.tasks.predictions).
EVALUATION_VERSION = 5

#: What an evaluation stage writes: ``{"metric", "value", "details"}`` (the job's result).
METRICS_FILE = "metrics.json"


def predict_logits(model: torch.nn.Module, collator: Callable, features: Sequence[dict],
                   batch_size: int = 32, progress: bool = False) -> list[torch.Tensor]:
    """One logits tensor per example, padding removed ([T, C] for tagging, [C] for pairs)."""
    import torch

    with torch.no_grad():
        return _predict_logits(model, collator, features, batch_size, progress)


def _predict_logits(model: torch.nn.Module, collator: Callable, features: Sequence[dict],
                    batch_size: int, progress: bool) -> list[torch.Tensor]:
    model.eval()
    device = next(model.parameters()).device
    outputs: list[torch.Tensor] = []
    starts = range(0, len(features), batch_size)
    for start in tqdm(starts, desc="predict", unit="batch", disable=not progress, leave=False):
        chunk = features[start:start + batch_size]
        batch = {k: v.to(device) for k, v in collator([dict(f) for f in chunk]).items() if k != "labels"}
        logits = model(**batch).logits.float().cpu()
        for row, feature in zip(logits, chunk):
            outputs.append(row[: len(feature["input_ids"])] if row.dim() == 2 else row)
    return outputs


def write_metrics(out: Path, task: TaskSpec, value: float, details: Mapping[str, Any]) -> None:
    """``metrics.json`` as every evaluation stage writes it."""
    payload = {"metric": task.metric_name, "value": value, "details": dict(details)}
    atomic_write_text(out / METRICS_FILE, json.dumps(payload, indent=2, sort_keys=True))


def write_scores(out: Path, task: TaskSpec, examples: Sequence, predictions: Sequence,
                 details: Mapping[str, Any], gold: Sequence | None = None) -> float:
    """Score ``predictions``; keep them (``predictions.npz``) and write ``metrics.json``.

    ``details`` gain ``per_example`` (the metric's counts per example, in split order: what a
    bootstrap resamples, :mod:`harness.statistics`) and ``split_digest`` (of the example ids,
    so two records are paired only on the same examples). ``gold``: the reference in the
    predictions' shape when it is not :meth:`TaskSpec.gold` (per-subword tags of a subword-scored
    NER split, :mod:`harness.tasks.subword_labels`). Returns the score.
    """
    from harness.tasks.predictions import example_ids, split_digest, store_predictions

    gold = task.gold(examples) if gold is None else gold
    value = task.metric.score(gold, predictions)
    ids = example_ids(examples)
    store_predictions(out, task, ids, gold, predictions)
    write_metrics(out, task, value, {**details, "per_example": task.metric.counts(gold, predictions),
                                     "split_digest": split_digest(ids)})
    return value


class EvaluationConfig(StrictConfig):
    """Which task, language and split to score, and from which data.

    ``label_subword``: where each word's prediction is read; the subword the model's training
    labels were put at (:func:`harness.tasks.specs.label_subword`).
    """

    task: TaskRef
    lang: str
    data: DataRef
    split: str = "test"
    max_length: int = Field(128, gt=0)
    batch_size: int = Field(32, gt=0)
    label_subword: Subword = "first"

    def data_reads(self) -> tuple[TaskRead, ...]:
        """The scored split of the language."""
        return (TaskRead(self.task, self.lang, self.data.source, (self.split,)),)


def save_finetuned(model, tokenizer, model_dir: Path) -> None:
    """Save a fine-tuned flex-head model as body (``save_pretrained``) plus head (``head/``).

    The head is saved apart because a custom head type (mBART's ``encoder_tagging``) is
    registered per model instance: ``from_pretrained`` of a body that names it in its config
    would fail, while :func:`load_finetuned` registers the type before loading the head.
    """
    (model_dir / HEAD_DIR).mkdir(parents=True, exist_ok=True)
    model.save_head(str(model_dir / HEAD_DIR), TASK_HEAD)
    model.delete_head(TASK_HEAD)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)


def load_finetuned(model_dir: Path):
    """The model :func:`save_finetuned` wrote, with its task head active."""
    from harness.models.heads import register_task_heads
    from harness.models.loading import load_adapter_model

    model = load_adapter_model(str(model_dir))
    register_task_heads(model)
    model.load_head(str(model_dir / HEAD_DIR), load_as=TASK_HEAD)
    model.active_head = TASK_HEAD
    return model


class ModelEvaluationStage(Stage):
    """Score a fine-tuned model (input ``model``: an artifact with ``model/``) on one language."""

    kind = "evaluation"
    uses_device = True
    version = EVALUATION_VERSION

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Predict the split and write ``metrics.json`` and ``predictions.npz``."""
        from transformers import AutoTokenizer

        config: EvaluationConfig = self.config
        task = get_task(config.task)
        model_dir = inputs["model"] / MODEL_DIR
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = load_finetuned(model_dir).to(ctx.device)
        examples = task.load(config.data.source, config.lang, config.split)
        encoded = task.encode(examples, tokenizer, config.max_length, config.label_subword,
                              overflow="window")
        logits = predict_logits(model, task.collator(tokenizer), encoded.features,
                                config.batch_size, ctx.progress)
        write_scores(out, task, examples, task.predict(encoded, logits),
                     {"n_examples": len(examples), "split": config.split, **encoded.window_details()})

