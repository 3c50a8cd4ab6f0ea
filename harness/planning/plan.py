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
from functools import cache

from pydantic import ValidationError

from harness.core.graph import Stage
from harness.core.registry import UnknownNameError
from harness.core.yaml_files import format_validation_error
from harness.data.parallel import ParallelRef
from harness.data.source import (
    DataError,
    DataRef,
    DataSource,
)
from harness.methods.base import Method
from harness.methods.catalog import METHODS
from harness.models.backbones import BackboneSpec, BackboneStage, backbone_config, backbone_spec
from harness.planning.backbone_checks import backbone_problems
from harness.planning.validation import data_problems
from harness.stages.corpus import CorpusConfig, CorpusStage
from harness.suite.schema import METHOD_BACKBONES, Job, Suite, SuiteError, method_config
from harness.suite.selection import select_jobs
from harness.tasks.specs import Subword, TaskRef, get_task, label_subword

EVAL_SPLIT = "test"


class NoParallelDataError(SuiteError):
    """A method reads sentence pairs and the suite lists no ``parallel:`` corpus."""


@dataclass
class BuildEnv:
    """Shared stage factories and data sources for the methods of one suite.

    ``provisional_data``: a data source that cannot be read here (a local folder not yet
    filled, say) gets a placeholder fingerprint naming it instead of stopping the build, and
    is listed in ``unavailable`` (what -> why). Only ``plan`` asks for it: counting stages and
    their sharing needs the graph's shape, not the data's content; a run never does (its keys
    must be the data's).
    """

    suite: Suite
    provisional_data: bool = False
    unavailable: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # one stage object (and one data fingerprint: files listed and hashed) per distinct
        # input, however many jobs share it
        self.backbone = cache(self.backbone)
        self.corpus = cache(self.corpus)
        self.task_data = cache(self.task_data)
        self.parallel_data = cache(self.parallel_data)

    def backbone(self, name: str) -> Stage:
        """The backbone stage (tiny ones train their tokenizer on the source-language corpus)."""
        spec = self.spec(name)
        config = backbone_config(spec, self.suite.backbone(name).pretrained)
        if not spec.tiny:
            return BackboneStage(config)
        return BackboneStage(config, corpus=self.corpus(self.all_sources(), role="source"))

    def spec(self, name: str) -> BackboneSpec:
        """The spec of the suite's backbone ``name``: registered or declared by the suite."""
        decl = self.suite.backbone(name)
        return backbone_spec(decl.name, decl.arch, decl.pretrained)

    def corpus(self, langs: tuple[str, ...] | str, role: str) -> Stage:
        """Monolingual text of ``langs``; ``role`` ('source'/'target') picks the sample count."""
        settings = self.suite.monolingual
        langs = (langs,) if isinstance(langs, str) else tuple(langs)
        n_samples = settings.source_samples if role == "source" else settings.target_samples
        data = self._data_ref(settings.data_for(role), langs, f"monolingual {role} data")
        return CorpusStage(CorpusConfig(langs=langs, n_samples=n_samples,
                                        words_per_sample=settings.words_per_sample, data=data))

    def sources(self, task: str) -> tuple[str, ...]:
        """Source languages of ``task``."""
        return self.suite.tasks[task].sources

    def all_sources(self) -> tuple[str, ...]:
        """Every source language of the suite, in first-seen order."""
        return tuple(dict.fromkeys(s for spec in self.suite.tasks.values() for s in spec.sources))

    def task(self, task: str) -> TaskRef:
        """What stage configs name ``task`` by (:meth:`harness.suite.schema.Suite.task_ref`)."""
        return self.suite.task_ref(task)

    def task_data(self, task: str, lang: str) -> DataRef:
        """The task dataset holding ``lang`` (keyed by ``lang``'s files when it has its own)."""
        spec = self.suite.tasks[task]
        if spec.definition is not None and lang not in spec.definition.languages:
            raise SuiteError(f"{self.suite.path}: tasks.{task}: a method reads language {lang!r}, "
                             f"not in the task's definition; valid: "
                             f"{', '.join(spec.definition.languages)}")
        return self._data_ref(spec.data_for(lang), (spec.data_scope(lang),), f"tasks.{task} data")

    def label_subword(self, task: str, backbone: str) -> Subword:
        """The subword that carries a word's label for ``task`` on ``backbone`` (first or last)."""
        return label_subword(self.suite.tasks[task].label_subword, self.spec(backbone).causal)

    def parallel_data(self, target: str, source: str) -> ParallelRef:
        """The parallel sentences of (target, source) for harmony weights."""
        if not self.suite.parallel:
            raise NoParallelDataError(f"{self.suite.path}: parallel: required by the methods with "
                                      f"harmony weights; docs/data.md lists the corpora")
        try:
            corpus = self.suite.parallel_for(target, source)
        except DataError as error:
            raise SuiteError(f"{self.suite.path}: parallel: {error}") from None
        try:
            return ParallelRef.of(corpus, target, source)
        except DataError as error:
            if not self.provisional_data:
                raise SuiteError(f"{self.suite.path}: parallel: {error}") from None
            placeholder = self._placeholder(f"parallel {corpus.describe()}", f"{target}-{source}", error)
        return ParallelRef(corpus=corpus, format=corpus.format, name=corpus.corpus, fingerprint=placeholder)

    def _data_ref(self, source: DataSource, langs: tuple[str, ...], what: str) -> DataRef:
        """``DataRef.of(source, langs)``, or a placeholder when data may be provisional."""
        try:
            return DataRef.of(source, langs)
        except DataError as error:
            if not self.provisional_data:
                raise
            what = f"{what} ({source.path or source.hub or source.release})"
            return DataRef(source=source, fingerprint=self._placeholder(what, ",".join(langs), error))

    def _placeholder(self, what: str, scope: str, error: DataError) -> str:
        """A fingerprint naming data that cannot be read here, which is recorded (provisional only)."""
        self.unavailable.setdefault(what, str(error))
        return f"unavailable:{what}:{scope}"


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
        try:
            return self.methods[job.method].build(job, self.env)
        except ValidationError as error:
            where = f"methods.{job.method} (job {job.job_id})"
            raise SuiteError(f"{self.suite.path}: {format_validation_error(error, where)}") from error


def prepare(suite: Suite, check_data: bool = True,
            only: Mapping[str, set[str]] | None = None) -> Plan:
    """Validate names, hyperparameters, compatibility and data; expand and select the jobs.

    ``only``: ``--only`` filters (:mod:`harness.suite.selection`); the data checks cover what the
    selected jobs read and nothing else (:mod:`harness.planning.validation`).
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
        problems += data_problems(suite, methods, selected, notes)
    if problems:
        raise SuiteError(f"{suite.path}: invalid suite\n" + "\n".join(dict.fromkeys(problems)))
    return Plan(suite, methods, jobs, notes=notes, selected=selected)


def _instantiate_methods(suite: Suite, problems: list[str]) -> dict[str, Method]:
    methods = {}
    for name in suite.methods:
        try:
            cls = METHODS.get(name)
            methods[name] = cls(name, method_config(cls.Config, suite.method_overrides(name)))
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
