"""The method interface: a method wires stages for one job and returns its evaluation stage.

Example (a new baseline is one module plus one line in :mod:`harness.methods.catalog`, or a plugin outside
the repository: docs/extending.md)::

    class MyMethod(Method):
        Config = MyConfig                       # pydantic, paper defaults
        archs = frozenset({"xlmr", "bert"})     # checked when the suite is expanded
        task_kinds = frozenset({"token_classification"})   # default (None): every registered kind

        def build(self, job, env):
            model = MyTrainStage(self.config.train, seed=job.seed, backbone=env.backbone(job.backbone))
            return EvaluateStage(..., model=model)

Ablations are presets: a subclass whose ``Config`` changes only defaults. A method supports
task *kinds* (:data:`harness.tasks.from_yaml.kinds.TASK_KINDS`), not task names, so that it runs on
every task of a kind it supports: the paper's and those declared in YAML. By default it supports
every registered kind, a plugin's included: a kind only brings new columns and examples, and
every kind predicts in one of the shapes (tagging, sentence, pair) that the stages, heads and
encodings handle; a method that cannot (one built on tagging alone) lists the kinds it can.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from harness.core.graph import Stage
from harness.core.yaml_files import format_validation_error
from harness.suite.schema import SuiteError
from harness.tasks.from_yaml.kinds import TASK_KINDS

if TYPE_CHECKING:
    from harness.methods.build_env import BuildEnv
    from harness.suite.schema import Job
    from harness.tasks.specs import TaskSpec

ALL_ARCHS = frozenset({"xlmr", "bert", "gpt2", "mbart"})


class Method(ABC):
    """Wires the stage graph of one job; holds the method's validated hyperparameters."""

    Config: ClassVar[type[BaseModel]]
    archs: ClassVar[frozenset[str]] = ALL_ARCHS
    task_kinds: ClassVar[frozenset[str] | None] = None  # None: every registered task kind
    description: ClassVar[str] = ""

    def __init__(self, name: str, config: BaseModel,
                 per_backbone: Mapping[str, BaseModel] | None = None):
        self.name = name
        self.config = config
        #: Backbone name → the config its jobs use where it is not ``config`` (a fidelity
        #: profile whose values differ per backbone family: :meth:`fidelity_preset`).
        self.per_backbone: dict[str, BaseModel] = dict(per_backbone or {})

    @classmethod
    def fidelity_preset(cls, fidelity: str, arch: str) -> dict[str, Any]:
        """Overrides of ``Config``'s defaults that the ``fidelity`` profile sets on ``arch``.

        ``paper`` (the text) is the defaults themselves: ``{}``. A method the authors' code
        implements returns, for ``authors``, the options that code sets (docs/fidelity.md);
        one it does not (the baselines: their code has none) returns ``{}`` for every profile.
        The suite's own overrides of the method are merged after the preset, so they win.
        Example: ``UniBridge.fidelity_preset("authors", "bert")["adaptation"]["beta"]``.
        """
        return {}

    def for_backbone(self, backbone: str) -> Method:
        """The method as ``backbone``'s jobs run it: ``self``, or a copy with its own config."""
        config = self.per_backbone.get(backbone)
        return self if config is None else type(self)(self.name, config)

    def incompatibility(self, arch: str, task: TaskSpec) -> str | None:
        """Why this method cannot run on ``arch``/``task`` (its ``task_kind``), or None when it can."""
        if arch not in self.archs:
            return f"method {self.name!r} does not support {arch} backbones (supports {sorted(self.archs)})"
        supported = self.supported_task_kinds()
        if task.task_kind not in supported:
            return (f"method {self.name!r} does not support task {task.name!r} of kind "
                    f"{task.task_kind} (supports the kinds {', '.join(sorted(supported))})")
        return None

    @classmethod
    def supported_task_kinds(cls) -> frozenset[str]:
        """The task kinds the method runs on: ``task_kinds``, or every registered kind."""
        return frozenset(TASK_KINDS.names()) if cls.task_kinds is None else cls.task_kinds

    def sources_problem(self, sources: tuple[str, ...]) -> str | None:
        """Why this method cannot run on a task with these source languages, or None when it can.

        ``validate`` asks it once per task: a method that needs one particular source (the
        English-only ablation needs English) says so here, not when its graph is built.
        """
        return None

    def parallel_pairs(self, sources: tuple[str, ...]) -> int | None:
        """How many parallel sentence pairs per (target, source) the method reads; None: none.

        ``validate`` checks the suite's parallel corpora only for methods that read them.
        """
        return None

    @abstractmethod
    def build(self, job: Job, env: BuildEnv) -> Stage:
        """The final stage of ``job``: an evaluation stage writing ``metrics.json``."""


def build_job_graph(method: Method, job: Job, env: BuildEnv) -> Stage:
    """``method.build(job, env)``: the job's evaluation stage, whose inputs are its whole graph.

    Raises:
        SuiteError: a stage config the suite's values make invalid (a check no method hook made
            before), named by the method and the job, never pydantic's traceback.
    """
    try:
        return method.for_backbone(job.backbone).build(job, env)
    except ValidationError as error:
        where = f"methods.{job.method} (job {job.job_id})"
        raise SuiteError(f"{env.suite.path}: {format_validation_error(error, where)}") from error
