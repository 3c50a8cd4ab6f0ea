"""The method interface: a method wires stages for one job and returns its evaluation stage.

Example (a new baseline is one module plus one line in :mod:`harness.catalog`, or a plugin outside
the repository: docs/extending.md)::

    class MyMethod(Method):
        Config = MyConfig                       # pydantic, paper defaults
        archs = frozenset({"xlmr", "bert"})     # checked when the suite is expanded

        def build(self, job, env):
            model = MyTrainStage(self.config.train, seed=job.seed, backbone=env.backbone(job.backbone))
            return EvaluateStage(..., model=model)

Ablations are presets: a subclass whose ``Config`` changes only defaults.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from harness.graph import Stage

if TYPE_CHECKING:
    from harness.planning import BuildEnv
    from harness.suite import Job

ALL_ARCHS = frozenset({"xlmr", "bert", "gpt2", "mbart"})
ALL_TASKS = frozenset({"ner", "pos", "nli"})


class Method(ABC):
    """Wires the stage graph of one job; holds the method's validated hyperparameters."""

    Config: ClassVar[type[BaseModel]]
    archs: ClassVar[frozenset[str]] = ALL_ARCHS
    tasks: ClassVar[frozenset[str]] = ALL_TASKS
    description: ClassVar[str] = ""

    def __init__(self, name: str, config: BaseModel):
        self.name = name
        self.config = config

    def incompatibility(self, arch: str, task: str) -> str | None:
        """Why this method cannot run on ``arch``/``task``, or None when it can."""
        if arch not in self.archs:
            return f"method {self.name!r} does not support {arch} backbones (supports {sorted(self.archs)})"
        if task not in self.tasks:
            return f"method {self.name!r} does not support task {task!r} (supports {sorted(self.tasks)})"
        return None

    def parallel_pairs(self, sources: tuple[str, ...]) -> int | None:
        """How many parallel sentence pairs per (target, source) the method reads; None: none.

        ``validate`` checks the suite's parallel corpora only for methods that read them.
        """
        return None

    @abstractmethod
    def build(self, job: Job, env: BuildEnv) -> Stage:
        """The final stage of ``job``: an evaluation stage writing ``metrics.json``."""
