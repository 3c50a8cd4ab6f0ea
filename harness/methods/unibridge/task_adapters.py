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

Options where the authors' code departs from the text (``fidelity: authors`` sets them as
:func:`authors_options` says; each cited in docs/fidelity.md "Stage 4"): the adapter's
``non_linearity`` and ``leave_out_last_layer``, ``stack_language_adapter``, the optimiser's
``weight_decay``, ``lr_schedule``, per-source ``learning_rates``, ``selection`` and
``subword_labels``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.core.config import StrictConfig, added_option
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.data.source import DataRef
from harness.tasks.reads import TRAINING_SPLITS, TaskRead
from harness.tasks.specs import Subword, TaskRef, TaskSpec, get_task, overflow_for, task_name
from harness.tasks.subword_labels import SubwordLabels, is_iob
from harness.training.arguments import PlateauSchedule, TrainingConfig

log = logging.getLogger(__name__)

LANGUAGE = "language"
TASK = "task"
ADAPTER_DIR = "adapter"
TRAINING_FILE = "training.json"


class TaskAdapterConfig(StrictConfig):
    """Task-adapter hyperparameters (paper defaults; the suite's ``task_adapter:`` section).

    Options whose default is the paper's text (or, where it is silent, MAD-X's and the
    harness's reading) and which the authors' code sets otherwise (file:line at 6a38462,
    relative to ``xlm/``; ``mbert/`` alike unless named):

    * ``non_linearity``: the bottleneck's activation; ``relu`` (MAD-X's Pfeiffer adapter,
      adapters' ``SeqBnConfig``); theirs ``gelu`` (``UniBridgeSrc/NER/model.py:79``, POS and
      NLI ``model.py:72``/``73``).
    * ``leave_out_last_layer``: no task adapter in the backbone's last layer; theirs
      ``leave_out=[11]`` on 12-layer backbones (same lines), here the last layer at any depth
      (the language adapter's, :func:`harness.models.loading.language_adapter_config`).
    * ``stack_language_adapter``: train on ``Stack(language, task)`` (the paper, MAD-X); theirs
      ``False``: ``model.py:90`` activates ``[lang, lang_ner]`` but ``model.py:93``
      ``train_adapter([lang_ner])`` then makes the task adapter the only active one
      (adapter-transformers 3.2.1 ``train_adapter`` ends in ``set_active_adapters``), so their
      task adapters train on the bare backbone (its own embeddings, no language adapter).
    * ``weight_decay``: AdamW's; 0.0 (the Trainer's default); theirs 0.01 (``pl_wrapper.py:71``).
    * ``lr_schedule``: ``linear`` decay to zero (the Trainer's default; the paper is silent);
      theirs ``plateau``: ``ReduceLROnPlateau(patience=2, threshold=0.1, mode="max")`` on the
      validation score each epoch (``pl_wrapper.py:72-78``; :class:`PlateauSchedule`).
    * ``learning_rates``: per task and source (``{"ner": {"eng": 1e-3}}``), overriding
      ``learning_rate`` for that pair; theirs from ``train.sh:25-45`` (:func:`authors_options`).
    * ``selection``: ``best`` validation epoch (PAPER.md "Model selection"); theirs ``last``
      (``train_src_*.py`` export the model after the last epoch; no checkpoint callback).
    * ``subword_labels``: ``one`` subword per word carries the label (``label_subword``); theirs
      ``all`` for NER: every subword, ``B-X`` continued as ``I-X``
      (``UniBridgeSrc/NER/dataloader.py:27-47``; POS stays at the first subword,
      ``UniBridgeSrc/POS/dataloader.py``), validation scored over those subwords as their
      ``pl_wrapper.py:36-68`` does. Only IOB tasks are affected.
    """

    reduction_factor: int = Field(16, gt=0)
    epochs: float = Field(11, gt=0)
    batch_size: int = Field(32, gt=0)
    learning_rate: float = Field(5e-4, gt=0)
    max_length: int = Field(128, gt=0)
    max_device_batch_size: int = Field(32, gt=0)
    max_steps: int | None = Field(None, gt=0)
    non_linearity: Literal["relu", "gelu"] = added_option("relu")
    leave_out_last_layer: bool = added_option(False)
    stack_language_adapter: bool = added_option(True)
    weight_decay: float = added_option(0.0, ge=0)
    lr_schedule: Literal["linear", "plateau"] = added_option("linear")
    learning_rates: dict[str, dict[str, float]] | None = added_option(None)
    selection: Literal["best", "last"] = added_option("best")
    subword_labels: SubwordLabels = added_option("one")

    def training(self) -> TrainingConfig:
        """The optimisation settings as :func:`harness.training.arguments.training_arguments` takes them."""
        return TrainingConfig(epochs=self.epochs, batch_size=self.batch_size,
                              learning_rate=self.learning_rate,
                              max_device_batch_size=self.max_device_batch_size,
                              max_steps=self.max_steps, weight_decay=self.weight_decay,
                              plateau=PlateauSchedule() if self.lr_schedule == "plateau" else None)

    def for_task(self, task: TaskRef, source: str, data: DataRef,
                 label_subword: Subword = "first") -> TaskAdapterJob:
        """The stage config that trains this task's adapter on ``source``'s data.

        ``label_subword``: where tagging labels go (:func:`harness.tasks.specs.label_subword`).
        The job's adapter settings are resolved for this task and source: ``learning_rates``
        becomes ``learning_rate``, and ``subword_labels`` is ``one`` for a task without IOB
        labels, so that options which leave a job alone leave its key alone too.
        """
        return TaskAdapterJob(task=task, source=source, data=data, adapter=self.resolved(task, source),
                              label_subword=label_subword)

    def resolved(self, task: TaskRef, source: str) -> TaskAdapterConfig:
        """These settings for one task and source (:meth:`for_task`)."""
        update: dict[str, Any] = {}
        if self.learning_rates is not None:
            update["learning_rates"] = None
            rate = self.learning_rates.get(task_name(task), {}).get(source)
            if rate is not None:
                update["learning_rate"] = rate
        if self.subword_labels != "one" and not is_iob(get_task(task).labels):
            update["subword_labels"] = "one"
        return self.model_copy(update=update) if update else self


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
                     name: str = TASK, settings: TaskAdapterConfig | None = None) -> None:
    """Add task adapter + head ``name`` on top of adapter ``language``, ready to train.

    Afterwards the active setup is ``Stack(language, name)`` (``name`` alone when ``settings``
    say ``stack_language_adapter: false``) and only the task adapter and its head require
    gradients. ``settings``: the adapter's non-linearity and left-out layer (defaults: the paper's).
    """
    from adapters import SeqBnConfig
    from adapters.composition import Stack

    from harness.models.heads import add_task_head
    from harness.models.loading import num_layers

    settings = settings or TaskAdapterConfig(reduction_factor=reduction_factor)
    leave_out = [num_layers(model) - 1] if settings.leave_out_last_layer else []
    model.add_adapter(name, config=SeqBnConfig(reduction_factor=reduction_factor,
                                               non_linearity=settings.non_linearity, leave_out=leave_out))
    add_task_head(model, name, task)
    model.train_adapter(name)
    model.set_active_adapters(Stack(language, name) if settings.stack_language_adapter else name)


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
    # (the authors' options, absent at their defaults, changed no key and no behaviour)

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Train on the source's train split, select on its validation split, save ``adapter/``."""
        from adapters import AdapterTrainer

        from harness.models.backbones import pretrained_path
        from harness.models.loading import load_adapter_model, load_language
        from harness.stages.finetune import score_function
        from harness.tasks.subword_labels import subword_score_function
        from harness.training.arguments import log_metrics_to_logging, train_resumably, training_arguments

        config: TaskAdapterJob = self.config
        settings = config.adapter
        task = get_task(config.task)
        model = load_adapter_model(pretrained_path(inputs["backbone"]))
        tokenizer = load_language(model, inputs["language"], LANGUAGE)
        add_task_adapter(model, task, settings.reduction_factor, settings=settings)
        splits = {split: self._split(task, tokenizer, split) for split in ("train", "validation")}
        (train_examples, train), (dev_examples, dev) = splits["train"], splits["validation"]
        args = training_arguments(
            settings.training(), ctx.partial_dir(self), ctx, eval_strategy="epoch",
            load_best_model_at_end=settings.selection == "best", metric_for_best_model="score",
            greater_is_better=True,
        )
        scores = (subword_score_function(task, dev) if settings.subword_labels == "all"
                  else score_function(task, dev_examples, dev))
        trainer = log_metrics_to_logging(AdapterTrainer(
            model=model, args=args, train_dataset=train.features, eval_dataset=dev.features,
            data_collator=task.collator(tokenizer), compute_metrics=scores))
        summary = train_resumably(trainer, args.output_dir)
        model.save_adapter(str(out / ADAPTER_DIR), TASK, with_head=True)
        summary |= {"best_validation_score": trainer.state.best_metric,
                   "n_train": len(train_examples), "n_validation": len(dev_examples)}
        if settings.selection == "last":
            summary |= {"selection": "last", "last_validation_score": _last_score(trainer)}
        atomic_write_text(out / TRAINING_FILE, json.dumps(summary, indent=2))

    def schedule(self) -> TrainingConfig:
        """The optimisation schedule (what ``plan`` costs)."""
        return self.config.adapter.training()

    def _split(self, task: TaskSpec, tokenizer, split: str):
        config: TaskAdapterJob = self.config
        examples = task.load(config.data.source, config.source, split)
        return examples, task.encode(examples, tokenizer, config.adapter.max_length,
                                     config.label_subword, overflow=overflow_for(split),
                                     subword_labels=config.adapter.subword_labels)

    def summary(self, artifact: Path) -> dict[str, Any]:
        """Training loss and the selected epoch's source-validation score."""
        return json.loads((artifact / TRAINING_FILE).read_text(encoding="utf-8"))


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md ("Stage 4"). The trees differ in the batch only.
    """
    return {"non_linearity": "gelu", "leave_out_last_layer": True, "stack_language_adapter": False,
            "epochs": 10, "max_length": 510, "batch_size": 16 if tree == "mbert" else 32,
            "weight_decay": 0.01, "lr_schedule": "plateau",
            "learning_rates": {task: dict(rates) for task, rates in AUTHORS_LEARNING_RATES.items()},
            "selection": "last", "subword_labels": "all"}


#: Their ``train.sh`` (lines 25-45 in ``xlm/``, 24-45 in ``mbert/``): the learning rate per
#: task and source language (``--lr``), the same in both trees.
AUTHORS_LEARNING_RATES: dict[str, dict[str, float]] = {
    "ner": {"eng": 1e-3, "rus": 1e-3, "zho": 1e-3, "ara": 5e-4, "jpn": 5e-4},
    "pos": {"eng": 1e-3, "ara": 1e-3, "jpn": 1e-3, "rus": 1e-3, "zho": 1e-3},
    "nli": {"ara": 5e-4, "rus": 5e-4, "eng": 1e-4, "zho": 1e-4},
}


def _last_score(trainer) -> float | None:
    """The validation score of the last evaluation (the kept model under ``selection: last``)."""
    scores = [entry["eval_score"] for entry in trainer.state.log_history if "eval_score" in entry]
    return scores[-1] if scores else None
