"""UniBridge (PAPER.md stages 1–5) and its ablations, as stage wiring.

Example (suite YAML)::

    methods:
      unibridge: {adaptation: {learning_rate: 2.0e-4}}
      unibridge_no_kl: {}

Graph of one job (target ``t``, sources ``s``)::

    corpus(t) ─► vocab_search ─► embedding_init ─► language_adapter(t) ─┐
    corpus(s) ─────────────────────────────────► language_adapter(s) ─► task_adapter(s) ─► evaluation
                         language_adapter(t), language_adapter(s), parallel ─► harmony_distance(t, s) ┘

Source languages keep the backbone's own vocabulary and embeddings (they are the
high-resource languages the backbone was trained on); only their MAD-X language adapter is
trained, with the same MLM (+ β·KL) objective. Source adapters and task adapters do not depend
on the target, so one set serves every target of a task.

Ablations are presets (Config subclasses that change one default):
``unibridge_no_kl`` (β = 0), ``unibridge_no_embedding_init`` (Xavier-normal embeddings),
``unibridge_no_vocab_search`` (fixed 10K vocabulary), ``unibridge_no_multi_source`` (English
task adapter only); ``unibridge_uniform_weights`` averages the sources uniformly.
"""  # noqa: D214, D405  (the example's "methods:" is a suite YAML key, not a docstring section)

from __future__ import annotations

from typing import Any

from harness.core.config import StrictConfig
from harness.core.graph import Stage
from harness.methods.base import Method
from harness.methods.build_env import EVAL_SPLIT, BuildEnv
from harness.methods.unibridge.adaptation import AdaptationConfig, AdaptationStage
from harness.methods.unibridge.authors import authors_preset
from harness.methods.unibridge.embeddings import EmbeddingInitConfig, EmbeddingInitStage
from harness.methods.unibridge.inference import (
    ENGLISH,
    HarmonyDistanceStage,
    InferenceConfig,
    MultiSourceEvaluationStage,
)
from harness.methods.unibridge.task_adapters import TaskAdapterConfig, TaskAdapterStage
from harness.methods.unibridge.vocab import VocabSearchConfig, VocabSearchStage
from harness.suite.schema import Job


class UniBridgeConfig(StrictConfig):
    """Hyperparameters of every stage (paper defaults, Tables 6–11)."""

    vocab: VocabSearchConfig = VocabSearchConfig()
    embeddings: EmbeddingInitConfig = EmbeddingInitConfig()
    adaptation: AdaptationConfig = AdaptationConfig()
    task_adapter: TaskAdapterConfig = TaskAdapterConfig()
    inference: InferenceConfig = InferenceConfig()


class UniBridge(Method):
    """The full method."""

    Config = UniBridgeConfig
    description = "UniBridge: ALP vocabulary search, aligned embeddings, MLM+KL adapters, harmony weights"

    @classmethod
    def fidelity_preset(cls, fidelity: str, arch: str) -> dict[str, Any]:
        """``authors``: their code's options on ``arch`` (:mod:`harness.methods.unibridge.authors`).

        An ablation keeps what makes it one: a value its ``Config`` sets apart from the full
        method's (``unibridge_no_kl``'s β = 0) is not overridden by the profile.
        """
        if fidelity != "authors":
            return {}
        return _without(authors_preset(arch), _ablated(cls.Config().model_dump(),
                                                       UniBridgeConfig().model_dump()))

    def parallel_pairs(self, sources: tuple[str, ...]) -> int | None:
        """K pairs per (target, source) when the weights are harmony weights over several sources."""
        inference = self.config.inference
        return inference.k if inference.needs_distances(sources) else None

    def build(self, job: Job, env: BuildEnv) -> Stage:
        """Wire stages 1–5 for one target language."""
        config: UniBridgeConfig = self.config
        backbone = env.backbone(job.backbone)
        target_corpus = env.corpus(job.lang, role="target")
        vocab = VocabSearchStage(config.vocab, corpus=target_corpus)
        embeddings = self.embeddings(job, backbone, vocab, target_corpus)
        target = AdaptationStage(config.adaptation.for_language(job.lang), seed=job.seed,
                                 backbone=backbone,
                                 corpus=target_corpus, embeddings=embeddings)
        sources = self.sources(job, env)
        inference = config.inference
        per_source: dict[str, Stage] = {}
        for source in sources:
            language = AdaptationStage(config.adaptation.for_language(source, source=True),
                                       seed=job.seed, backbone=backbone,
                                       corpus=env.corpus(source, role="source"))
            per_source[f"language_{source}"] = language
            per_source[f"task_{source}"] = self.task_adapter(job, env, source, backbone, language)
            if inference.needs_distances(sources):
                per_source[f"distance_{source}"] = self.distance(job, env, source, backbone, target,
                                                                 language)
        evaluation = inference.for_job(env.task(job.task), job.lang, sources, EVAL_SPLIT,
                                       env.task_data(job.task, job.lang),
                                       env.label_subword(job.task, job.backbone))
        return MultiSourceEvaluationStage(evaluation, backbone=backbone, target=target, **per_source)

    def sources(self, job: Job, env: BuildEnv) -> tuple[str, ...]:
        """The sources whose task adapters take part (English only under that ablation)."""
        sources = env.sources(job.task)
        if self.config.inference.weighting == "english_only":
            return (ENGLISH,)
        return sources

    def sources_problem(self, sources: tuple[str, ...]) -> str | None:
        """Weights the task's sources do not fit (English-only; fixed weights not one per source).

        English-only weighting on a task without English is refused, not re-pointed: the
        ablation "− multi-source transfer" (Table 5) is English's task adapter alone; on a
        task with no English source (MasakhaNER 2.0: hau, swa, xho) any other single source would
        make a row that reads as the paper's but depends on the order the sources are listed in.
        A single-source run is the method itself on a task with that one source (its weight is 1).
        docs/choices.md "English-only methods on a task without English".
        """
        inference = self.config.inference
        if inference.weighting == "fixed" and set(inference.fixed_weights) != set(sources):
            return (f"inference.fixed_weights name {', '.join(sorted(inference.fixed_weights))}, "
                    f"but the sources are {', '.join(sorted(sources))}; valid: one weight per "
                    f"source, no other language")
        if inference.weighting != "english_only" or ENGLISH in sources:
            return None
        return (f"inference weighting 'english_only' (the ablation \"− multi-source transfer\": "
                f"English's task adapter alone) needs eng among the sources, which are "
                f"{', '.join(sources)}; valid: add eng to the sources, or drop the method (one "
                f"source alone: unibridge on a task whose sources are that one language)")

    def embeddings(self, job: Job, backbone: Stage, vocab: Stage, corpus: Stage) -> Stage:
        """Stage 2: the target vocabulary's initial embeddings (Eqs. 2–8)."""
        return EmbeddingInitStage(self.config.embeddings, seed=job.seed, backbone=backbone,
                                  tokenizer=vocab, corpus=corpus)

    def distance(self, job: Job, env: BuildEnv, source: str, backbone: Stage, target: Stage,
                 language: Stage) -> Stage:
        """The (target, source) distance the weights come from (Eq. 11)."""
        config: UniBridgeConfig = self.config
        distance = config.inference.distance_config(job.lang, source, env.parallel_data(job.lang, source),
                                                    config.adaptation.pi_unibridge)
        return HarmonyDistanceStage(distance, backbone=backbone, target=target, language=language)

    def task_adapter(self, job: Job, env: BuildEnv, source: str, backbone: Stage,
                     language: Stage) -> Stage:
        """Stage 4 for one source language."""
        return TaskAdapterStage(
            self.config.task_adapter.for_task(env.task(job.task), source, env.task_data(job.task, source),
                                              env.label_subword(job.task, job.backbone)),
            seed=job.seed, backbone=backbone, language=language,
        )


def _ablated(ablation: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    """The keys (nested) whose value ``ablation`` sets apart from ``full``."""
    differing: dict[str, Any] = {}
    for key in ablation.keys() | full.keys():
        mine, theirs = ablation.get(key), full.get(key)
        if isinstance(mine, dict) and isinstance(theirs, dict):
            inner = _ablated(mine, theirs)
            if inner:
                differing[key] = inner
        elif mine != theirs:
            differing[key] = mine
    return differing


def _without(preset: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    """``preset`` less every key ``kept`` names (nested)."""
    result = {}
    for key, value in preset.items():
        if key in kept and isinstance(value, dict) and isinstance(kept[key], dict):
            value = _without(value, kept[key])
            if value:
                result[key] = value
        elif key not in kept:
            result[key] = value
    return result


class UniBridgeNoKLConfig(UniBridgeConfig):
    """Ablation "− KL divergence": β = 0."""

    adaptation: AdaptationConfig = AdaptationConfig(beta=0.0)


class UniBridgeNoEmbeddingInitConfig(UniBridgeConfig):
    """Ablation "− embedding initialization": Xavier-normal random embeddings."""

    embeddings: EmbeddingInitConfig = EmbeddingInitConfig(init="random")


class UniBridgeNoVocabSearchConfig(UniBridgeConfig):
    """Ablation "− vocab size searching": a fixed 10K vocabulary."""

    vocab: VocabSearchConfig = VocabSearchConfig(fixed_size=10_000)


class UniBridgeNoMultiSourceConfig(UniBridgeConfig):
    """Ablation "− multi-source transfer": the English task adapter only."""

    inference: InferenceConfig = InferenceConfig(weighting="english_only")


class UniBridgeUniformWeightsConfig(UniBridgeConfig):
    """Variant: all sources weighted equally instead of by harmony weights."""

    inference: InferenceConfig = InferenceConfig(weighting="uniform")


class UniBridgeNoKL(UniBridge):
    """UniBridge without the KL term."""

    Config = UniBridgeNoKLConfig


class UniBridgeNoEmbeddingInit(UniBridge):
    """UniBridge with random new embeddings."""

    Config = UniBridgeNoEmbeddingInitConfig


class UniBridgeNoVocabSearch(UniBridge):
    """UniBridge with a fixed 10K vocabulary."""

    Config = UniBridgeNoVocabSearchConfig


class UniBridgeNoMultiSource(UniBridge):
    """UniBridge with the English task adapter only."""

    Config = UniBridgeNoMultiSourceConfig


class UniBridgeUniformWeights(UniBridge):
    """UniBridge averaging all sources uniformly."""

    Config = UniBridgeUniformWeightsConfig
