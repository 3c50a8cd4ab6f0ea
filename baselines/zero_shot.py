"""Zero-shot full fine-tuning baseline (PAPER.md "Baselines").

Example (suite YAML)::

    methods:
      zero_shot: {training: {epochs: 10, learning_rate: 1.0e-5}}

The whole backbone plus a task head is fine-tuned on the union of all source languages'
training data (10 epochs, batch 32, lr 1e-5) and evaluated directly on each target language.
The fine-tuned model does not depend on the target, so one model serves every target.
"""  # noqa: D214, D405  (the example's "methods:" is a suite YAML key, not a docstring section)

from __future__ import annotations

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage
from harness.methods.base import Method
from harness.methods.build_env import EVAL_SPLIT, BuildEnv
from harness.stages.evaluation import EvaluationConfig, ModelEvaluationStage
from harness.stages.finetune import PAPER_FINETUNING, FinetuneConfig, FinetuneStage
from harness.suite.schema import Job
from harness.training.arguments import TrainingConfig


class ZeroShotConfig(StrictConfig):
    """Hyperparameters of zero-shot fine-tuning (paper defaults)."""

    training: TrainingConfig = PAPER_FINETUNING
    max_length: int = Field(128, gt=0)
    eval_batch_size: int = Field(32, gt=0)


class ZeroShot(Method):
    """Fine-tune on all sources, evaluate on the target."""

    Config = ZeroShotConfig
    description = "full fine-tuning on the union of source languages, zero-shot on targets"

    def build(self, job: Job, env: BuildEnv) -> Stage:
        """finetune(backbone, sources) -> evaluation(target)."""
        config: ZeroShotConfig = self.config
        return finetune_and_evaluate(job, env, env.backbone(job.backbone), config.training,
                                     config.max_length, config.eval_batch_size)


def finetune_and_evaluate(job: Job, env: BuildEnv, backbone: Stage, training: TrainingConfig,
                          max_length: int, eval_batch_size: int) -> Stage:
    """Fine-tune ``backbone`` on the union of the task's sources, evaluate on ``job``'s target.

    Shared by the baselines that fine-tune a whole model (zero-shot, EXTEND).
    """
    sources = env.sources(job.task)
    subword = env.label_subword(job.task, job.backbone)
    finetune = FinetuneStage(
        FinetuneConfig(task=env.task(job.task), sources=sources,
                       data={lang: env.task_data(job.task, lang) for lang in sources},
                       training=training, max_length=max_length, label_subword=subword),
        seed=job.seed, backbone=backbone,
    )
    evaluation = EvaluationConfig(task=env.task(job.task), lang=job.lang, split=EVAL_SPLIT,
                                  data=env.task_data(job.task, job.lang),
                                  max_length=max_length, batch_size=eval_batch_size,
                                  label_subword=subword)
    return ModelEvaluationStage(evaluation, model=finetune)
