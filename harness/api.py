"""The plugin API: every name docs/extending.md documents, from one small module that stays put.

Example (a plugin's method, as ``tests/plugin_example/`` writes it)::

    from harness.api import Method, Stage, Table, TaskRead

    class MajorityLabel(Method):
        Config = MajorityConfig
        def build(self, job, env): ...

Import plugin code's names from here, not from the modules that define them: those follow the
harness's layers (docs/architecture.md) and may move; these names do not, and
``tests/test_public_api.py`` imports each one that docs/extending.md lists. The registries here
are the ones the plugin groups extend (:data:`harness.plugins.registries.REGISTRIES`).
"""

from __future__ import annotations

from harness.core.executor import Executor
from harness.core.graph import Stage, StageContext
from harness.data.source import DataRef, DataSource
from harness.methods.base import Method
from harness.methods.build_env import EVAL_SPLIT, BuildEnv
from harness.methods.catalog import METHODS
from harness.methods.unibridge.inference import MultiSourceConfig, MultiSourceEvaluationStage
from harness.methods.unibridge.method import UniBridge, UniBridgeConfig
from harness.models.backbones import BACKBONES, BackboneSpec
from harness.report.catalog import TABLES
from harness.report.tables import Table
from harness.run.executors.catalog import EXECUTORS
from harness.run.executors.local import LocalExecutor
from harness.run.records import ResultRecord
from harness.stages.evaluation import write_scores
from harness.suite.schema import Job
from harness.tasks.from_yaml.kinds import TASK_KINDS, TaskKind
from harness.tasks.reads import PairRead, TaskRead, TextRead
from harness.tasks.specs import TASKS, TaskSpec, get_task

__all__ = [
    "BACKBONES", "EVAL_SPLIT", "EXECUTORS", "METHODS", "TABLES", "TASKS", "TASK_KINDS",
    "BackboneSpec", "BuildEnv", "DataRef", "DataSource", "Executor", "Job", "LocalExecutor",
    "Method", "MultiSourceConfig", "MultiSourceEvaluationStage", "PairRead", "ResultRecord",
    "Stage", "StageContext", "Table", "TaskKind", "TaskRead", "TaskSpec", "TextRead", "UniBridge",
    "UniBridgeConfig", "get_task", "write_scores",
]
