"""What a plugin's entries must be, checked when it loads (before anything trains).

Example::

    problems = entry_problems("methods", "softmax_temp", TemperedUniBridge)   # [] when usable

Per kind:

* **methods**: a :class:`harness.methods.base.Method` subclass whose ``Config`` validates with its
  defaults; its ``archs`` a non-empty set of architectures some registered backbone has, and
  its task kinds (:meth:`~harness.methods.base.Method.supported_task_kinds`) a non-empty set of
  registered kinds, else no suite could ever run it.
* **tables**: a callable ``table(records) -> Table | None`` (:mod:`harness.report.plugin_tables`).
* **backbones**: a :class:`harness.models.backbones.BackboneSpec` of a known architecture.
* **tasks**: a :class:`harness.tasks.specs.TaskSpec` of a registered task kind.
* **task_kinds**: a :class:`harness.tasks.from_yaml.kinds.TaskKind` of one of the three shapes every
  stage can encode and predict.
* **executors**: a :class:`harness.core.executor.Executor` subclass that takes no arguments
  (``run --executor NAME`` builds it so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from harness.core.archs import ARCHS


def entry_problems(kind: str, name: str, obj: Any) -> list[str]:
    """What is wrong with entry ``name`` of registry ``kind`` (empty when it can be used)."""
    check = CHECKS.get(kind)
    return check(name, obj) if check else []


def method_problems(name: str, cls: Any) -> list[str]:
    """A method must be a Method subclass with a default Config and a possible combination."""
    from pydantic import BaseModel, ValidationError  # here: `list` without a plugin method needs none

    from harness.methods.base import Method

    if not (isinstance(cls, type) and issubclass(cls, Method)):
        return [f"method {name!r} is {cls!r}, not a subclass of harness.methods.base.Method"]
    config_cls = getattr(cls, "Config", None)
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        return [f"method {name!r} has no Config (a pydantic model of its hyperparameters)"]
    try:
        method = cls(name, config_cls())
    except ValidationError as error:
        return [f"method {name!r}: its Config does not validate with its defaults: "
                f"{error.errors()[0]['msg']} ({'.'.join(map(str, error.errors()[0]['loc']))})"]
    return combination_problems(method)


def backbone_archs() -> list[str]:
    """The architectures of the registered backbones."""
    from harness.models.backbones import BACKBONES

    return sorted({BACKBONES.get(backbone).arch for backbone in BACKBONES.names()})


def combination_problems(method: Any) -> list[str]:
    """An empty or unknown ``archs``, or no registered (backbone, task) pair the method supports."""
    from harness.tasks.from_yaml.kinds import TASK_KINDS

    archs = backbone_archs()
    declared = sorted(method.archs)
    if not declared:
        return [f"method {method.name!r} declares archs = {{}}: it runs on no backbone "
                f"(backbones have {', '.join(archs)})"]
    unknown = [arch for arch in declared if arch not in archs]
    if unknown:
        return [f"method {method.name!r} declares archs {unknown}, which no backbone has "
                f"(valid: {', '.join(archs)})"]
    declared_kinds = sorted(method.supported_task_kinds())
    unknown_kinds = [kind for kind in declared_kinds if kind not in TASK_KINDS]
    if unknown_kinds or not declared_kinds:
        return [f"method {method.name!r} declares task_kinds {declared_kinds}: "
                f"{'none' if not declared_kinds else ', '.join(unknown_kinds)} of them registered "
                f"(valid: {', '.join(TASK_KINDS.names())})"]
    return []


def table_problems(name: str, table: Any) -> list[str]:
    """A table plugin is a callable of the run's records."""
    if not callable(table):
        return [f"table {name!r} is {table!r}, not a callable table(records) -> Table"]
    return []


def backbone_problems(name: str, spec: Any) -> list[str]:
    """A backbone plugin is a BackboneSpec whose arch the harness can build and load."""
    from harness.models.backbones import BackboneSpec

    if not isinstance(spec, BackboneSpec):
        return [f"backbone {name!r} is {spec!r}, not a harness.models.backbones.BackboneSpec"]
    if spec.arch not in ARCHS:
        return [f"backbone {name!r} has arch {spec.arch!r}; valid: {', '.join(ARCHS)}"]
    if spec.name != name:
        return [f"backbone {name!r} is registered under another name than its spec's {spec.name!r}"]
    return []


def task_problems(name: str, spec: Any) -> list[str]:
    """A task plugin is a TaskSpec registered under its own name."""
    from harness.tasks.specs import TaskSpec

    if not isinstance(spec, TaskSpec):
        return [f"task {name!r} is {spec!r}, not a harness.tasks.specs.TaskSpec"]
    if spec.name != name:
        return [f"task {name!r} is registered under another name than its spec's {spec.name!r}"]
    return _registered_kind(f"task {name!r}", spec.task_kind)


def _registered_kind(what: str, kind: str) -> list[str]:
    from harness.tasks.from_yaml.kinds import TASK_KINDS

    if kind not in TASK_KINDS:
        return [f"{what} has task kind {kind!r}; valid: {', '.join(TASK_KINDS.names())}"]
    return []


def task_kind_problems(name: str, kind: Any) -> list[str]:
    """A task-kind plugin is a TaskKind, registered under its own name, of a known shape."""
    from harness.tasks.from_yaml.kinds import Shape, TaskKind

    if not isinstance(kind, TaskKind):
        return [f"task kind {name!r} is {kind!r}, not a harness.tasks.from_yaml.kinds.TaskKind"]
    if kind.name != name:
        return [f"task kind {name!r} is registered under another name than its own {kind.name!r}"]
    if kind.shape not in get_args(Shape):
        return [f"task kind {name!r} has shape {kind.shape!r}; valid: {', '.join(get_args(Shape))}"]
    return []


def executor_problems(name: str, cls: Any) -> list[str]:
    """An executor plugin is an Executor subclass built without arguments."""
    import inspect

    from harness.core.executor import Executor

    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        return [f"executor {name!r} is {cls!r}, not a subclass of harness.core.executor.Executor"]
    if inspect.isabstract(cls):
        return [f"executor {name!r} does not implement execute(stages, cache, ctx, on_done)"]
    required = [parameter.name for parameter in inspect.signature(cls).parameters.values()
                if parameter.default is parameter.empty
                and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]
    if required:
        return [f"executor {name!r} needs arguments {required}; run builds it with none "
                f"(give them defaults, or read them from the environment)"]
    return []


#: Registry kind -> the check of one of its entries.
CHECKS: dict[str, Callable[[str, Any], list[str]]] = {
    "methods": method_problems,
    "tables": table_problems,
    "backbones": backbone_problems,
    "tasks": task_problems,
    "task_kinds": task_kind_problems,
    "executors": executor_problems,
}
