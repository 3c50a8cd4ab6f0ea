"""Stage 5 of UniBridge: multi-source inference with harmony weights (PAPER.md "Stage 5").

Example::

    inference = InferenceConfig()
    distance_eng = HarmonyDistanceStage(inference.distance_config("amh", "eng", parallel),
                                        backbone=backbone, target=amh_adapter, language=eng_adapter)
    config = inference.for_job("ner", "amh", ("eng", "zho"), "test", data)
    stage = MultiSourceEvaluationStage(config, backbone=backbone, target=amh_adapter,
                                       language_eng=..., task_eng=..., distance_eng=distance_eng,
                                       language_zho=..., task_zho=..., distance_zho=...)
    path = cache.materialize(stage, ctx)       # metrics.json with the weights in its details

At test time the model holds the target's embeddings and language adapter and every source's
task adapter (with its head); ``Stack(target, Parallel(task_eng, task_zho, ...))`` runs all task
adapters in ONE forward pass (adapters replicates the batch once per source at the first
``Parallel`` layer and gives each channel its own head), and the per-source **logits** are
combined as ŷ = Σ_s w_s ŷ_s (PAPER.md: logits, not probabilities). A tagging sentence longer
than ``max_length`` is predicted in overlapping windows, each window's logits combined as above
(:meth:`harness.tasks.specs.TaskSpec.encode`, ``overflow="window"``; counted in the details).

Weights (``InferenceConfig.weighting``):

* ``harmony`` (default, Eqs. 10–13, :mod:`harness.methods.unibridge.harmony`): from the first K parallel
  sentences of each (target, source) pair; each side's states come from that language's own
  embeddings and language adapter. Each pair's distance (Eq. 11) is a stage of its own, so it
  is computed once per (target, source) and shared by the three tasks, and it stays in the
  cache for inspection; the weights (Eqs. 12–13) go into the job's ``metrics.json``.
* ``uniform``: 1/|S| each (a variant).
* ``english_only``: the ablation "− multi-source transfer" (the English task adapter alone).
* ``fixed``: ``fixed_weights`` given by the suite or a baseline (lang2vec weights).

Scoring (``InferenceConfig.ner_scoring``): ``word`` (default) scores one prediction per word;
``subword`` labels every subword of the target's NER sentences (a ``B-X`` word's later subwords
``I-X``) and scores entity F1 over them, as the authors' ``pinference_ner.py`` does
(:mod:`harness.tasks.subword_labels`; docs/fidelity.md "Scoring").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from harness.core.config import StrictConfig, added_option
from harness.core.graph import Stage, StageContext
from harness.data.parallel import ParallelRef
from harness.data.source import DataRef
from harness.methods.unibridge.harmony import (  # noqa: F401  (the stage-5 API lives here too)
    DistanceConfig,
    HarmonyDistanceStage,
    HarmonyState,
    HarmonyTruncation,
    activate_language,
    harmony_weights,
    language_distance,
    pair_distance,
    read_distance,
    sentence_states,
)
from harness.models.loading import LAST_LAYER, PiReading
from harness.stages.evaluation import EVALUATION_VERSION, METRICS_FILE
from harness.tasks.reads import TaskRead
from harness.tasks.specs import Subword, TaskRef, get_task
from harness.tasks.subword_labels import ScoringUnit, is_iob

log = logging.getLogger(__name__)

TARGET = "target"
ENGLISH = "eng"


def language_name(source: str) -> str:
    """Name of source ``source``'s language adapter (and embeddings) inside the model."""
    return f"language_{source}"


def task_name(source: str) -> str:
    """Name of source ``source``'s task adapter and head inside the model."""
    return f"task_{source}"


class InferenceConfig(StrictConfig):
    """How the sources are weighted (the suite's ``inference:`` section).

    ``k`` = 10 parallel sentences per pair is the paper's. Silent in the paper: ``max_length``
    128 and ``batch_size`` 32: rows per forward pass *after* Parallel replicates the examples
    once per source (so 32 // n examples per pass; see
    :class:`harness.methods.unibridge.weighted_heads.WeightedHeads`).

    Harmony options (each :class:`DistanceConfig` gets them; docs/fidelity.md, "Stage 5"):
    ``harmony_state`` ``pi_unibridge`` (the paper: π_UniBridge, after the inverse invertible
    adapter) or ``raw_last_layer`` (the authors' ``weight.py:119-120``: the adapter model's raw
    last hidden state); ``harmony_truncation`` ``max_length`` (each sentence cut at
    ``max_length`` tokens; the paper is silent) or ``none`` (``weight.py:114,144``: no truncation).

    ``ner_scoring``: what a target's NER score counts. ``word`` (PAPER.md "NER scoring": the
    paper reports word-level entity F1, comparable across tokenizers): one prediction per word,
    read where its label was put. ``subword``: their ``pinference_ner.py`` (lines 25-29, 60-63,
    85-89 at 6a38462, with ``UniBridge/NER/dataloader.py`` lines 23-43): every subword of a word
    labelled (``B-X`` continued as ``I-X``) and seqeval entity F1 over those subword sequences.
    Tasks without IOB labels (POS, NLI) are scored as under ``word`` (their POS code scores the
    first subword of each word: word accuracy).
    """

    k: int = Field(10, gt=0)
    weighting: Literal["harmony", "uniform", "english_only", "fixed"] = "harmony"
    fixed_weights: dict[str, float] | None = None
    max_length: int = Field(128, gt=0)
    batch_size: int = Field(32, gt=0)
    harmony_state: HarmonyState = added_option("pi_unibridge")
    harmony_truncation: HarmonyTruncation = added_option("max_length")
    ner_scoring: ScoringUnit = added_option("word")

    @model_validator(mode="after")
    def _fixed_weights_iff_fixed(self) -> InferenceConfig:
        if (self.weighting == "fixed") != (self.fixed_weights is not None):
            raise ValueError("give fixed_weights exactly when weighting is 'fixed'")
        if self.fixed_weights is not None and any(w < 0 for w in self.fixed_weights.values()):
            raise ValueError(f"fixed_weights must be non-negative, got {self.fixed_weights}")
        return self

    def for_job(self, task: TaskRef, lang: str, sources: tuple[str, ...], split: str,
                data: DataRef, label_subword: Subword = "first") -> MultiSourceConfig:
        """The stage-5 config of one job (``label_subword`` as the task adapters were trained).

        ``ner_scoring`` is reset to ``word`` for a task without IOB labels, which it leaves alone.
        """
        inference = self
        if self.ner_scoring != "word" and not is_iob(get_task(task).labels):
            inference = self.model_copy(update={"ner_scoring": "word"})
        return MultiSourceConfig(task=task, lang=lang, sources=sources, split=split, data=data,
                                 inference=inference, label_subword=label_subword)

    def needs_distances(self, sources: tuple[str, ...]) -> bool:
        """Whether the weights come from per-source distances (harmony, several sources)."""
        return self.weighting == "harmony" and len(sources) > 1

    def distance_config(self, lang: str, source: str, parallel: ParallelRef,
                        pi_unibridge: PiReading = LAST_LAYER) -> DistanceConfig:
        """The config of the Eq. 11 distance between ``lang`` and ``source``.

        ``pi_unibridge``: the adaptation config's reading of π_UniBridge (one option for Eq. 9
        and Eqs. 10-11).
        """
        return DistanceConfig(lang=lang, source=source, parallel=parallel, k=self.k,
                              max_length=self.max_length, batch_size=self.batch_size,
                              pi_unibridge=pi_unibridge, harmony_state=self.harmony_state,
                              harmony_truncation=self.harmony_truncation)


class MultiSourceConfig(StrictConfig):
    """Stage-5 config: task, target language and split, sources, data and weighting.

    ``data`` is a :class:`DataRef`: its content fingerprint enters the key. ``label_subword``:
    where each word's prediction is read, the subword its training label was put at.
    """

    task: TaskRef
    lang: str
    sources: tuple[str, ...] = Field(min_length=1)
    split: str = "test"
    data: DataRef
    inference: InferenceConfig = InferenceConfig()
    label_subword: Subword = "first"

    def data_reads(self) -> tuple[TaskRead, ...]:
        """The scored split of the target."""
        return (TaskRead(self.task, self.lang, self.data.source, (self.split,)),)

    @model_validator(mode="after")
    def _consistent(self) -> MultiSourceConfig:
        weighting, sources = self.inference.weighting, self.sources
        if len(set(sources)) != len(sources):
            raise ValueError(f"sources listed twice: {sources}")
        if weighting == "english_only" and sources != (ENGLISH,):
            raise ValueError(f"weighting 'english_only' needs sources ('eng',), got {sources}")
        if weighting == "fixed" and set(self.inference.fixed_weights) != set(sources):
            raise ValueError(f"fixed_weights {sorted(self.inference.fixed_weights)} do not match "
                             f"the sources {sorted(sources)}")
        return self


def fixed_source_weights(config: MultiSourceConfig) -> dict[str, float]:
    """Weights that need no model: uniform, English only or fixed (harmony: see the stage)."""
    weighting, sources = config.inference.weighting, config.sources
    if weighting == "fixed":
        return {s: config.inference.fixed_weights[s] for s in sources}
    if weighting == "harmony" and len(sources) > 1:
        raise ValueError("harmony weights of several sources come from the model")
    return {s: 1.0 / len(sources) for s in sources}


class MultiSourceEvaluationStage(Stage):
    """Score the target's split with every source's task adapter, combined by weights.

    Inputs: ``backbone``, ``target`` (the target's language_adapter artifact) and, per source
    ``s``, ``language_s``, ``task_s`` and, for harmony weights, ``distance_s`` (a
    :class:`~harness.methods.unibridge.harmony.HarmonyDistanceStage` artifact, shared by every task of
    the same target).
    """

    kind = "evaluation"
    uses_device = True
    version = EVALUATION_VERSION

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Load everything into one model, weigh the sources, predict, write the scores."""
        from harness.methods.unibridge.weighted_heads import WeightedHeads
        from harness.stages.evaluation import predict_logits, write_scores
        from harness.tasks.subword_labels import predict_subwords

        config: MultiSourceConfig = self.config
        task = get_task(config.task)
        model, tokenizers = self._load(inputs)
        model.to(ctx.device)
        distances = self._distances(inputs)
        weights = self.source_weights(distances) if distances else fixed_source_weights(config)
        log.info("%s → %s weights %s", config.sources, config.lang, weights)
        examples = task.load(config.data.source, config.lang, config.split)
        by_subword = config.inference.ner_scoring == "subword"
        encoded = task.encode(examples, tokenizers[TARGET], config.inference.max_length,
                              config.label_subword, overflow="window",
                              subword_labels="all" if by_subword else "one")
        activate_language(model, TARGET)
        combined = WeightedHeads(model, TARGET, {task_name(s): w for s, w in weights.items()},
                                 max_rows=config.inference.batch_size)
        # batches of one pass each, so each is padded to its own longest example
        logits = predict_logits(combined, task.collator(tokenizers[TARGET]), encoded.features,
                                combined.examples_per_pass, ctx.progress)
        details = {"weights": weights, "distances": distances, "n_examples": len(examples),
                   "split": config.split, "weighting": config.inference.weighting,
                   **encoded.window_details()}
        if by_subword:  # their scoring: every labelled subword (InferenceConfig.ner_scoring)
            write_scores(out, task, examples, predict_subwords(task, encoded, logits),
                         details | {"scoring_unit": "subword"}, gold=encoded.subword_tags)
        else:
            write_scores(out, task, examples, task.predict(encoded, logits), details)

    def source_weights(self, distances: Mapping[str, float]) -> dict[str, float]:
        """The harmony weights of Eqs. 12–13 from the Eq. 11 distances.

        The one place a variant weighs the sources differently (a subclass overrides it: the
        softmax-temperature plugin of docs/extending.md).
        """
        return harmony_weights(distances)

    def _load(self, inputs: Mapping[str, Path]) -> tuple[Any, dict[str, Any]]:
        """The backbone with the target, every source language and every task adapter loaded."""
        from harness.methods.unibridge.task_adapters import load_task_adapter
        from harness.models.backbones import pretrained_path
        from harness.models.loading import load_adapter_model, load_language

        model = load_adapter_model(pretrained_path(inputs["backbone"]))
        tokenizers = {TARGET: load_language(model, inputs["target"], TARGET)}
        for source in self.config.sources:
            tokenizers[source] = load_language(model, inputs[f"language_{source}"], language_name(source))
            load_task_adapter(model, inputs[f"task_{source}"], task_name(source))
        return model, tokenizers

    def _distances(self, inputs: Mapping[str, Path]) -> dict[str, float]:
        """Eq. 11 per source, read from the distance stages; empty unless harmony weights are due."""
        config: MultiSourceConfig = self.config
        if not config.inference.needs_distances(config.sources):
            return {}
        missing = [s for s in config.sources if f"distance_{s}" not in inputs]
        if missing:
            raise ValueError(f"harmony weights need the distance stages of {missing}")
        return {s: read_distance(inputs[f"distance_{s}"]) for s in config.sources}

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The task score and the weight of each source."""
        metrics = json.loads((artifact / METRICS_FILE).read_text(encoding="utf-8"))
        return {"weights": metrics["details"]["weights"], "distances": metrics["details"]["distances"]}


def _harmony_authors_options(tree: str) -> dict[str, Any]:
    """The harmony weights' options as their ``weight.py`` computes them (both trees alike).

    ``weight.py:119-120,150-151``: ``mean_pooling(model(**batch))`` of an adapter model without a
    head, the raw last hidden state; ``weight.py:114,144``: ``tokenizer(data, padding=True)``,
    no truncation. Their sources differ by tree (``xlm/weight.py:98`` four, ``mbert/weight.py:97``
    five); the harness weighs the sources a job ensembles (docs/fidelity.md, "Where their code
    cannot be followed").
    """
    if tree not in ("xlm", "mbert"):
        raise ValueError(f"unknown tree of the authors' code: {tree!r}")
    return {"harmony_state": "raw_last_layer", "harmony_truncation": "none"}


def authors_options(tree: str) -> dict[str, Any]:
    """This stage's options as the authors' code sets them in ``tree`` (``xlm`` or ``mbert``).

    Gathered by :func:`harness.methods.unibridge.authors.authors_preset`; each value cites
    their file in docs/fidelity.md: the harmony weights' part is
    :func:`_harmony_authors_options`, the scoring part :func:`_scoring_options`.
    """
    return {**_harmony_authors_options(tree), **_scoring_options(tree)}


def _scoring_options(tree: str) -> dict[str, Any]:
    """Scoring as their ``pinference_*.py`` do it (both trees alike): NER over subwords."""
    return {"ner_scoring": "subword"}
