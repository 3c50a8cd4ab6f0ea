"""MAD-X baseline (Pfeiffer et al. 2020; PAPER.md "Baselines"; Tables 1–4, 12–13, 18, 23).

Example (suite YAML)::

    methods: {mad_x: {adaptation: {max_steps: 50000}, source_adaptation: {max_steps: 250000}}}

Graph of one job (target ``t``, sources ``s``)::

    corpus(t) ──► language_adapter(t, β = 0, backbone vocabulary) ─────────────────┐
    corpus(p) ──► language_adapter(p, β = 0) ──► task_adapter(all sources' data) ─► evaluation

``p`` is the source language the task adapter is trained on top of: English, or the task's first
source when it has no English (below).

Language adapters are the adapters library's MAD-X configuration (``SeqBnInvConfig``: a
bottleneck adapter per layer plus an invertible adapter on the embeddings, reduction factor 2,
none in the last layer; :func:`harness.models.loading.language_adapter_config`), trained with the
backbone's own LM objective (MLM; causal LM for mGPT, denoising for mBART) on the same
monolingual data as UniBridge, on the backbone's own vocabulary and frozen embeddings, with no
KL term. At test time the target's language adapter replaces the source's under the task
adapter: ``Stack(target language adapter, task adapter)``.

Training schedule: MAD-X's standard setup (the paper: MAD-X runs "its standard setup";
docs/choices.md "MAD-X"), as its authors trained the MAD-X language adapters they published
(AdapterHub, Adapter-Hub/Hub ``adapters/ukp/xlm-roberta-base-<lang>-wiki_pfeiffer.yaml``:
batch 64, 50k steps for the small Wikipedias of low-resource languages such as Min Dong, 250k
for English) with the learning rate the adapters library documents for MAD-X language adapters
(1e-4, ``docs/training.md``): ``adaptation`` (target) 50,000 steps, ``source_adaptation``
(English) 250,000 steps, both batch 64 and lr 1e-4. UniBridge's stage-3 schedule (50 epochs,
batch 32, lr 5e-4) is a suite option away.

Five sources, one row (``task_sources``; docs/choices.md "MAD-X"): the paper trains one
"universal" task adapter on the union of all sources' training data (``all``, the default).
MAD-X stacks a task adapter on the language adapter of the language it is trained on; the
paper does not say which one the universal adapter sits on, so it sits on the English adapter
(MAD-X's own source language), and is selected on the union of the sources' validation splits.
``english``: MAD-X's original setup, English data only; that task adapter equals UniBridge's
English task adapter without KL, so ``unibridge_no_kl`` and ``mad_x`` share it.

A task with no English source (MasakhaNER 2.0: hau, swa, xho; :func:`source_language`): MAD-X's
source language need not be English (Pfeiffer et al. 2020 train the task adapter on the source
language stacked on that language's adapter), so the universal adapter sits on the adapter of
the task's first source, trained with ``source_adaptation``, and no English text is read.
``english`` there is refused at ``validate`` (:meth:`MadX.sources_problem`). docs/choices.md
"English-only methods on a task without English".

With its standard schedule MAD-X shares only backbones and corpora with UniBridge. Given
UniBridge's schedule (``source_adaptation: {epochs: 50, batch_size: 32, learning_rate: 5.0e-4,
max_steps: null}``), its English language adapter equals ``unibridge_no_kl``'s (β = 0 in both:
same config, corpus and backbone) and is built once for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage
from harness.data.source import DataRef
from harness.methods.base import Method
from harness.methods.build_env import EVAL_SPLIT, BuildEnv
from harness.methods.unibridge.adaptation import AdaptationConfig, AdaptationStage
from harness.methods.unibridge.inference import (
    ENGLISH,
    InferenceConfig,
    MultiSourceEvaluationStage,
    language_name,
    task_name,
)
from harness.methods.unibridge.task_adapters import TaskAdapterConfig, TaskAdapterStage
from harness.stages.finetune import FinetuneConfig, load_split
from harness.suite.schema import Job
from harness.tasks.reads import TRAINING_SPLITS, TaskRead, task_reads
from harness.tasks.specs import Subword, TaskRef, TaskSpec

#: MAD-X's target language adapters: the LM objective alone (β = 0), batch 64, lr 1e-4, 50k steps.
MADX_ADAPTATION = AdaptationConfig(beta=0.0, batch_size=64, learning_rate=1e-4, max_steps=50_000)
#: MAD-X's English language adapter: as the target's, 250k steps (MAD-X's large Wikipedias).
MADX_SOURCE_ADAPTATION = MADX_ADAPTATION.model_copy(update={"max_steps": 250_000})


class MadXConfig(StrictConfig):
    """Hyperparameters of MAD-X: its standard language-adapter schedule, the paper's task adapter.

    ``adaptation``: the target's language adapter; ``source_adaptation``: that of the source
    the task adapter sits on (:func:`source_language`: English, or the first source without it).
    ``train_embeddings`` has no effect in either: MAD-X keeps the backbone's vocabulary, whose
    embeddings stay frozen.
    """

    adaptation: AdaptationConfig = Field(MADX_ADAPTATION)
    source_adaptation: AdaptationConfig = Field(MADX_SOURCE_ADAPTATION)
    task_adapter: TaskAdapterConfig = TaskAdapterConfig()
    task_sources: Literal["all", "english"] = "all"
    max_length: int = Field(128, gt=0)
    batch_size: int = Field(32, gt=0)


class UniversalTaskAdapterJob(StrictConfig):
    """Stage-4 config of the universal task adapter: one adapter trained on several sources."""

    task: TaskRef
    sources: tuple[str, ...] = Field(min_length=1)
    data: dict[str, DataRef]
    adapter: TaskAdapterConfig = TaskAdapterConfig()
    label_subword: Subword = "first"

    def data_reads(self) -> tuple[TaskRead, ...]:
        """The training and selection splits of every source."""
        return task_reads(self.task, self.data, TRAINING_SPLITS)


class UniversalTaskAdapterStage(TaskAdapterStage):
    """A task adapter trained on the union of ``sources``' data, stacked on input ``language``.

    Training and selection as :class:`TaskAdapterStage`; the splits are the sources' splits
    concatenated in source order.
    """

    def _split(self, task: TaskSpec, tokenizer, split: str):
        config: UniversalTaskAdapterJob = self.config
        union = FinetuneConfig(task=config.task, sources=config.sources, data=config.data,
                               max_length=config.adapter.max_length, label_subword=config.label_subword)
        return load_split(task, union, split, tokenizer)


def source_language(sources: tuple[str, ...]) -> str:
    """The source whose language adapter MAD-X's task adapter sits on.

    English when it is one of ``sources`` (MAD-X's own source language), else the first of them
    (a task without English).
    """
    return ENGLISH if ENGLISH in sources else sources[0]


class MadX(Method):
    """MAD-X language adapters + one task adapter, Stack(target LA, task adapter) at test time."""

    Config = MadXConfig
    description = "MAD-X: language + invertible adapters (MLM), universal task adapter, adapter swap"

    def sources_problem(self, sources: tuple[str, ...]) -> str | None:
        """``task_sources: english`` needs English among the task's sources (see the module)."""
        if self.config.task_sources != "english" or ENGLISH in sources:
            return None
        return (f"task_sources 'english' (MAD-X's original English-only task adapter) needs eng "
                f"among the sources, which are {', '.join(sources)}; valid: task_sources 'all' (the "
                f"universal task adapter, on {sources[0]}'s language adapter), or add eng to the "
                f"sources")

    def build(self, job: Job, env: BuildEnv) -> Stage:
        """Language adapters of the target and the source language, the task adapter, evaluation."""
        config: MadXConfig = self.config
        backbone = env.backbone(job.backbone)
        target = AdaptationStage(config.adaptation, seed=job.seed, backbone=backbone,
                                 corpus=env.corpus(job.lang, role="target"))
        source = source_language(env.sources(job.task))
        language = AdaptationStage(config.source_adaptation, seed=job.seed, backbone=backbone,
                                   corpus=env.corpus(source, role="source"))
        subword = env.label_subword(job.task, job.backbone)
        task_config = self._task_config(job, env, subword)
        stage = UniversalTaskAdapterStage if config.task_sources == "all" else TaskAdapterStage
        task = stage(task_config, seed=job.seed, backbone=backbone, language=language)
        inference = InferenceConfig(weighting="uniform", max_length=config.max_length,
                                    batch_size=config.batch_size)
        evaluation = inference.for_job(env.task(job.task), job.lang, (source,), EVAL_SPLIT,
                                       env.task_data(job.task, job.lang), subword)
        return MultiSourceEvaluationStage(evaluation, backbone=backbone, target=target,
                                          **{language_name(source): language, task_name(source): task})

    def _task_config(self, job: Job, env: BuildEnv, subword: Subword) -> BaseModel:
        """The task adapter's config: English only, or every source (universal)."""
        config: MadXConfig = self.config
        if config.task_sources == "english":
            return config.task_adapter.for_task(env.task(job.task), ENGLISH, env.task_data(job.task, ENGLISH),
                                                subword)
        sources = env.sources(job.task)
        data: Mapping[str, DataRef] = {lang: env.task_data(job.task, lang) for lang in sources}
        return UniversalTaskAdapterJob(task=env.task(job.task), sources=sources, data=dict(data),
                                       adapter=config.task_adapter, label_subword=subword)
