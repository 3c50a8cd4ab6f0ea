"""From a validated suite to stage graphs: method instances, shared stage factories, checks.

Example::

    plan = prepare(load_suite(path))          # raises SuiteError on any problem
    final = plan.build(plan.jobs[0])          # the job's evaluation stage

:class:`BuildEnv` hands methods the stages they share (backbones, corpora) and the data
sources of each task; methods never read the suite directly, so that the same wiring serves
every suite. :func:`prepare` checks everything that can be checked before training: method,
backbone and task names, each method's hyperparameters, method × backbone × task
compatibility, what a method needs of a task's sources (:meth:`Method.sources_problem`), which
``--only`` values select jobs (:mod:`harness.suite.selection`), and that the data the selected jobs
read is there (:mod:`harness.planning.validation`); a hub dataset whose revision is not
a commit id is reported as a warning naming the commit to pin (:mod:`harness.data.hub`), and
monolingual text of the selected jobs that gives fewer samples than asked is kept in
:attr:`Plan.notes` (no error: a run uses what there is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from harness.core.graph import Stage, topological_order
from harness.core.registry import UnknownNameError
from harness.core.yaml_files import format_validation_error
from harness.data.source import (
    DataError,
)
from harness.methods.base import Method, build_job_graph
from harness.methods.build_env import BuildEnv
from harness.methods.catalog import METHODS
from harness.models.backbones import backbone_spec
from harness.planning.backbone_checks import backbone_problems
from harness.planning.validation import data_problems, selected_stages
from harness.suite.schema import METHOD_BACKBONES, Job, Suite, SuiteError, method_config
from harness.suite.selection import select_jobs
from harness.tasks.specs import get_task


@dataclass
class Plan:
    """A validated suite with its method instances and every job."""

    suite: Suite
    methods: dict[str, Method]
    jobs: list[Job]
    provisional_data: bool = False  # BuildEnv.provisional_data: for counting stages only
    #: What the data check found worth saying that is no error (monolingual text running short).
    notes: list[str] = field(default_factory=list)
    selected: list[Job] | None = None  # the jobs --only keeps (default: every job)
    env: BuildEnv = field(init=False)

    def __post_init__(self) -> None:
        self.env = BuildEnv(self.suite, self.provisional_data)
        if self.selected is None:
            self.selected = self.jobs

    def build(self, job: Job) -> Stage:
        """The evaluation stage (and, through its inputs, the whole graph) of ``job``.

        Raises:
            SuiteError: a stage config the suite's values make invalid (a check no method
                hook made before), named by the method and the job, never pydantic's traceback.
        """
        return build_job_graph(self.methods[job.method], job, self.env)


def prepare(suite: Suite, check_data: bool = True,
            only: Mapping[str, set[str]] | None = None) -> Plan:
    """Validate names, hyperparameters, compatibility and data; expand and select the jobs.

    ``only``: ``--only`` filters (:mod:`harness.suite.selection`); the data checks cover what the
    selected jobs read and nothing else (:mod:`harness.planning.validation`). The selected jobs'
    graphs are built either way (on provisional data when ``check_data`` is False), so what a
    stage config or the wiring refuses (a value out of its range, no ``parallel:`` for harmony
    weights) is refused here, not when a run reaches that stage.
    """
    problems: list[str] = []
    notes: list[str] = []
    methods = _instantiate_methods(suite, problems)
    _check_names(suite, problems)
    if not problems:
        problems += _incompatibilities(suite, methods)
    jobs = suite.jobs()
    selected = select_jobs(suite, jobs, only) if only else jobs
    if check_data and not problems:
        problems += data_problems(suite, methods, selected, notes)  # builds the graphs too
    elif not problems:  # the graphs alone, on provisional data: what every stage config refuses
        problems += selected_stages(suite, methods, selected)[1]
    if problems:
        raise SuiteError(f"{suite.path}: invalid suite\n" + "\n".join(dict.fromkeys(problems)))
    return Plan(suite, methods, jobs, notes=notes, selected=selected)


def _instantiate_methods(suite: Suite, problems: list[str]) -> dict[str, Method]:
    """One instance per method, with per-backbone configs where the fidelity profile differs.

    A profile whose values differ per backbone family (``authors``: their ``xlm/`` and
    ``mbert/`` trees) gives those backbones their own config (:attr:`Method.per_backbone`).
    """
    methods = {}
    for name in suite.methods:
        try:
            cls = METHODS.get(name)
            overrides = suite.method_overrides(name)
            configs = {}
            for backbone_name in suite.method_backbones(name):
                backbone = suite.backbone(backbone_name)
                try:
                    arch = backbone_spec(backbone.name, backbone.arch, backbone.pretrained).arch
                except (UnknownNameError, DataError, ValueError):
                    continue  # said by the name checks
                preset = cls.fidelity_preset(suite.fidelity, arch)
                configs[backbone_name] = method_config(cls.Config, overrides, preset)
            base = next(iter(configs.values()), None) or method_config(cls.Config, overrides)
            methods[name] = cls(name, base, {b: c for b, c in configs.items() if c != base})
        except UnknownNameError as error:
            problems.append(f"methods.{name}: {error}")
        except ValidationError as error:
            problems.append(format_validation_error(error, f"methods.{name}", cls.Config,
                                                    also_valid=[METHOD_BACKBONES]))
    return methods


def _check_names(suite: Suite, problems: list[str]) -> None:
    problems += backbone_problems(suite.backbones)
    for task in suite.tasks:  # a YAML task's definition was checked when the suite loaded
        _collect(problems, f"tasks.{task}", lambda t=task: get_task(suite.task_ref(t)))


def _incompatibilities(suite: Suite, methods: dict[str, Method]) -> list[str]:
    problems = set()
    for method in methods.values():
        for backbone in map(suite.backbone, suite.method_backbones(method.name)):
            for task in suite.tasks:
                arch = backbone_spec(backbone.name, backbone.arch, backbone.pretrained).arch
                reason = method.incompatibility(arch, get_task(suite.task_ref(task)))
                if reason:
                    problems.add(f"methods.{method.name} × {backbone.name} × {task}: {reason}")
        for task, spec in suite.tasks.items():
            reason = method.sources_problem(spec.sources)
            if reason:
                problems.add(f"methods.{method.name} × tasks.{task}.sources: {reason}")
    return sorted(problems)


def _collect(problems: list[str], where: str, check: Callable[..., object], *args: object) -> None:
    """Run ``check(*args)``; a data or name problem becomes one message prefixed by ``where``."""
    try:
        check(*args)
    except (DataError, UnknownNameError) as error:
        problems.append(f"{where}: {error}")


def stages_shared_with(plan: Plan, fidelity: str) -> tuple[int, int]:
    """(shared, total) distinct stages of the selected jobs, shared: built under ``fidelity`` too.

    A stage is shared when the same job under the ``fidelity`` profile has a stage of the same
    key (docs/fidelity.md); total counts the plan's own distinct stages.

    Options at their paper value stay out of the keys (:func:`harness.core.config.added_option`),
    so the stages a profile leaves alone (corpora, backbones, the baselines' stages) are shared.
    Example: ``stages_shared_with(prepare(authors_suite, check_data=False), "paper")``.
    """
    other = prepare(plan.suite.model_copy(update={"fidelity": fidelity}), check_data=False)
    other.env = BuildEnv(other.suite, plan.provisional_data)
    mine = {stage.key for stage in topological_order([plan.build(job) for job in plan.selected])}
    theirs = {stage.key for stage in topological_order([other.build(job) for job in plan.selected])}
    return len(mine & theirs), len(mine)
