"""From a validated suite to stage graphs: method instances, shared stage factories, checks.

Example::

    plan = prepare(load_suite(path))          # raises SuiteError on any problem
    final = plan.build(plan.jobs[0])          # the job's evaluation stage

:class:`BuildEnv` hands methods the stages they share (backbones, corpora) and the data
sources of each task; methods never read the suite directly, so that the same wiring serves
every suite. :func:`prepare` checks everything that can be checked before training: method,
backbone and task names, each method's hyperparameters, method × backbone × task
compatibility, and that every dataset is reachable; a hub dataset whose revision is not a
commit id is reported as a warning naming the commit to pin (:mod:`harness.data.hub`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TypeVar

from pydantic import ValidationError

from harness.backbones import BackboneSpec, BackboneStage, backbone_config, backbone_spec
from harness.catalog import METHODS
from harness.checkpoints import backbone_problems
from harness.corpus import CorpusConfig, CorpusStage
from harness.data import monolingual, parallel
from harness.data.parallel import ParallelRef
from harness.data.problems import Problems
from harness.data.source import (
    DataError,
    DataRef,
    DataSource,
    check_hub_reachable,
    unpinned_warning,
)
from harness.graph import Stage
from harness.methods import Method
from harness.registry import UnknownNameError
from harness.suite import Job, Suite, SuiteError, format_validation_error, method_config
from harness.tasks import TASKS, Subword, get_task, label_subword

logger = logging.getLogger(__name__)
T = TypeVar("T")

EVAL_SPLIT = "test"
SELECTION_SPLIT = "validation"


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
        self.backbone = cache(self.backbone)
        self.corpus = cache(self.corpus)

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

    def task_data(self, task: str, lang: str) -> DataRef:
        """The task dataset holding ``lang``."""
        return self._data_ref(self.suite.tasks[task].data_for(lang), (lang,), f"tasks.{task} data")

    def label_subword(self, task: str, backbone: str) -> Subword:
        """The subword that carries a word's label for ``task`` on ``backbone`` (first or last)."""
        return label_subword(self.suite.tasks[task].label_subword, self.spec(backbone).causal)

    def parallel_data(self, target: str, source: str) -> ParallelRef:
        """The parallel sentences of (target, source) for harmony weights."""
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
    env: BuildEnv = field(init=False)

    def __post_init__(self) -> None:
        self.env = BuildEnv(self.suite, self.provisional_data)

    def build(self, job: Job) -> Stage:
        """The evaluation stage (and, through its inputs, the whole graph) of ``job``."""
        return self.methods[job.method].build(job, self.env)


def prepare(suite: Suite, check_data: bool = True) -> Plan:
    """Validate names, hyperparameters, compatibility and data; expand the jobs."""
    problems: list[str] = []
    notes: list[str | None] = []
    methods = _instantiate_methods(suite, problems)
    _check_names(suite, problems)
    if not problems:
        problems += _incompatibilities(suite, methods)
    if check_data and not problems:
        problems += _data_problems(suite, methods, notes)
    if problems:
        raise SuiteError(f"{suite.path}: invalid suite\n" + "\n".join(dict.fromkeys(problems)))
    return Plan(suite, methods, suite.jobs(), notes=[note for note in notes if note])


def _instantiate_methods(suite: Suite, problems: list[str]) -> dict[str, Method]:
    methods = {}
    for name in suite.methods:
        try:
            cls = METHODS.get(name)
            methods[name] = cls(name, method_config(cls.Config, suite.method_overrides(name)))
        except UnknownNameError as error:
            problems.append(f"methods.{name}: {error}")
        except ValidationError as error:
            problems.append(format_validation_error(error, prefix=f"methods.{name}"))
    return methods


def _check_names(suite: Suite, problems: list[str]) -> None:
    problems += backbone_problems(suite.backbones)
    for task in suite.tasks:
        _collect(problems, f"tasks.{task}", lambda t=task: TASKS.get(t))


def _incompatibilities(suite: Suite, methods: dict[str, Method]) -> list[str]:
    problems = set()
    for method in methods.values():
        for backbone in map(suite.backbone, suite.method_backbones(method.name)):
            for task in suite.tasks:
                arch = backbone_spec(backbone.name, backbone.arch, backbone.pretrained).arch
                reason = method.incompatibility(arch, task)
                if reason:
                    problems.add(f"methods.{method.name} × {backbone.name} × {task}: {reason}")
    return sorted(problems)


def _data_problems(suite: Suite, methods: dict[str, Method], notes: list[str | None]) -> list[str]:
    problems: list[str] = []
    for name, spec in suite.tasks.items():
        data = get_task(name).data
        for lang in spec.targets:  # only the evaluation split of a target is ever read
            _scan(problems, f"tasks.{name}.{spec.data_key(lang)}", data.check, spec.data_for(lang),
                  lang, (EVAL_SPLIT,))
        for lang in spec.sources:
            _scan(problems, f"tasks.{name}.{spec.data_key(lang)}", data.check, spec.data_for(lang),
                  lang, ("train", SELECTION_SPLIT))
    corpora = suite.monolingual
    for role, key in (("target", "monolingual.target_data"), ("source", "monolingual.data")):
        key = key if role == "source" or corpora.target_data else "monolingual.data"
        langs = {lang for spec in suite.tasks.values() for lang in getattr(spec, f"{role}s")}
        words = {lang: _scan(problems, key, monolingual.check, corpora.data_for(role), lang)
                 for lang in sorted(langs)}
        asked = corpora.source_samples if role == "source" else corpora.target_samples
        notes.append(monolingual.shortfall(f"{key}: {role} text", words, asked,
                                           corpora.words_per_sample, f"monolingual.{role}_samples"))
    problems += _parallel_problems(suite, methods)
    for key, source in _hub_sources(suite).items():
        _collect(problems, key, check_hub_reachable, source, key)
        warning = unpinned_warning(source, key)
        if warning:
            logger.warning("%s", warning)
    return problems


def harmony_k(methods: Iterable[Method], sources: tuple[str, ...]) -> int | None:
    """The most parallel pairs per (target, source) any method needs (None: no method reads them)."""
    ks = [k for k in (method.parallel_pairs(sources) for method in methods) if k is not None]
    return max(ks, default=None)


def _parallel_problems(suite: Suite, methods: dict[str, Method]) -> list[str]:
    """Every (target, source) pair a harmony method reads has a corpus with at least K pairs."""
    problems: list[str] = []
    for spec in suite.tasks.values():
        k = harmony_k(methods.values(), spec.sources)
        if k is None:
            continue
        if not suite.parallel:
            readers = sorted(name for name, method in methods.items()
                             if method.parallel_pairs(spec.sources) is not None)
            problems.append("parallel: required by the methods with harmony weights "
                            f"({', '.join(readers)}); docs/data.md lists the corpora")
            break
        pairs: dict[str, list[str]] = {}  # message -> the pairs it is about
        for target, source in itertools.product(spec.targets, spec.sources):
            found: list[str] = []
            _collect(found, "", _check_pair, suite, target, source, k)
            for message in found:
                pairs.setdefault(message.removeprefix(": "), []).append(f"{target}-{source}")
        problems += [f"parallel ({', '.join(names)}): {message}" for message, names in pairs.items()]
    return problems


def _check_pair(suite: Suite, target: str, source: str, k: int) -> None:
    corpus = suite.parallel_for(target, source)
    try:
        parallel.check(corpus, target, source, k)
    except DataError as error:  # the suite key of the entry, to say where to change it
        key = f"parallel.{suite.parallel.index(corpus)}.data"
        raise DataError(f"{key} {corpus.describe()}: {error}") from None


def _hub_sources(suite: Suite) -> dict[str, DataSource]:
    """Every hub data source of ``suite`` by the first suite key that names it."""
    named = {f"tasks.{name}.data": spec.data for name, spec in suite.tasks.items()}
    named |= {f"tasks.{name}.source_data": spec.source_data for name, spec in suite.tasks.items()}
    named |= {f"tasks.{name}.language_data.{lang}": data for name, spec in suite.tasks.items()
              for lang, data in spec.language_data.items()}
    named |= {"monolingual.data": suite.monolingual.data,
              "monolingual.target_data": suite.monolingual.target_data}
    named |= {f"parallel.{index}.data": corpus.data for index, corpus in enumerate(suite.parallel)}
    unique: dict[str, DataSource] = {}
    for key, source in named.items():
        if source is not None and source.hub is not None and source not in unique.values():
            unique[key] = source
    return unique


def _collect(problems: list[str], where: str, check: Callable[..., T], *args: object) -> T | None:
    """``check(*args)``; a data or name problem becomes one message prefixed by ``where`` (None)."""
    try:
        return check(*args)
    except (DataError, UnknownNameError) as error:
        problems.append(f"{where}: {error}")
        return None


def _scan(problems: list[str], where: str, check: Callable[..., T], *args: object) -> T | None:
    """A data ``check(*args, found)`` that reports every bad line; each becomes a message."""
    found = Problems()
    result = _collect(problems, where, check, *args, found)
    problems += [f"{where}: {message}" for message in found.messages()]
    return result


def filter_jobs(jobs: Iterable[Job], filters: dict[str, set[str]]) -> list[Job]:
    """The jobs matching every ``--only KEY=VALUE`` filter."""
    return [job for job in jobs if job.matches(filters)]
