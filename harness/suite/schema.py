"""Typed suite files: load, validate and expand into jobs.

Example::

    suite = load_suite(Path("suites/smoke.yaml"))
    for job in suite.jobs():
        print(job.job_id)            # unibridge/tiny-xlmr/ner/amh/seed1

A suite names backbones, tasks (targets, sources, data) and methods with hyperparameter
overrides. Defaults merge in one place (:func:`method_config`): a method's paper defaults, then
the suite's overrides, deep-merged, so overriding one field of a nested stage config keeps the
preset's other fields (an ablation's ``beta: 0`` survives ``adaptation: {max_steps: 2}``).
Top-level keys starting with ``x-`` are ignored (the docker-compose convention): they hold YAML
anchors that several methods share. Relative data paths and backbone checkpoint paths
(``pretrained:``) are resolved against the suite file's directory. A backbone entry is a
registered name or a declaration with ``pretrained:`` and ``arch:`` (:class:`BackboneDecl`).
Every problem raises :class:`SuiteError` with the file, the key path and the valid choices (an
unknown key: the closest valid key and every valid one, :func:`format_validation_error`).
A method's entry may name the backbones it runs on (``backbones: [...]``, default all of the
suite's): jobs are expanded only for those. ``include:`` names folders of plugin modules (one
or a list, relative to the suite file; docs/extending.md).
"""

from __future__ import annotations

import itertools
import re
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from harness.core.archs import Arch
from harness.core.config import Seed, StrictConfig, added_option, key_error
from harness.core.languages import SOURCE_LANGUAGES, canonical_code
from harness.core.yaml_files import YamlFileError, format_validation_error, read_yaml
from harness.data.parallel import ParallelCorpus, corpora_from_yaml, corpus_for
from harness.data.source import DataSource
from harness.tasks.from_yaml.schema import TaskDefinition, definition_files
from harness.tasks.specs import TASKS

#: Top-level keys with this prefix only carry YAML anchors and are dropped before validation.
ANCHOR_PREFIX = "x-"
#: Key of a method's entry naming the backbones it runs on (the paper pairs some methods with
#: some backbones only); the rest of the entry is hyperparameter overrides.
METHOD_BACKBONES = "backbones"
#: How a message shows a value the file gave: a few items and levels of it, never a whole tree.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 2, 6, 6, 60


class SuiteError(ValueError):
    """A suite that cannot be used; the message names the file, the key and the fix."""


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def safe_name(name: str) -> str:
    """``name`` if it can be one folder name; else ValueError saying what is allowed.

    The suite's name is its default workdir (``runs/<name>``) and the method, backbone, task and
    language names are the folders of a job's results (``method/backbone/task/lang/seed``), so
    none may hold a path separator or be ``..``: ``name: ../../escaped`` would write outside
    ``runs/``.
    """
    if not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"{name!r} becomes a folder name (the workdir runs/<suite name>, the job "
                         f"ids method/backbone/task/lang/seed): use letters, digits, '.', '_' and "
                         f"'-' only, starting with a letter or digit")
    return name


def _canonical_languages(codes: tuple[str, ...]) -> tuple[str, ...]:
    """ISO 639-3 codes for ``codes`` (two-letter ones mapped), each at most once."""
    codes = tuple(canonical_code(code) for code in codes)
    if len(set(codes)) != len(codes):
        raise ValueError(f"languages listed twice: {sorted({c for c in codes if codes.count(c) > 1})}")
    return codes


class TaskSuite(StrictConfig):
    """One task of a suite: where its data is, which targets to evaluate, which sources to use.

    ``label_subword`` (tagging tasks): the subword a word is labelled and predicted at, for
    every method of the suite: ``auto`` (last for causal backbones, first otherwise), ``first``
    or ``last`` (:func:`harness.tasks.specs.label_subword`).
    ``language_data`` gives single languages their own source (language → data source), for a
    language the suite's release lacks (UD's Sindhi is in no release: suites/ud.yaml).
    ``definition``: a task declared in YAML (:mod:`harness.tasks.from_yaml`, docs/yaml-tasks.md):
    a file relative to the suite file (read by :func:`load_suite`) or an inline mapping; every
    target and source must be one of its ``languages``. Without it the task is a built-in one.
    """

    targets: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = Field(SOURCE_LANGUAGES, min_length=1)  # none: nothing to transfer
    data: DataSource
    source_data: DataSource | None = None
    language_data: dict[str, DataSource] = {}
    label_subword: Literal["auto", "first", "last"] = "auto"
    definition: TaskDefinition | None = None

    def data_for(self, lang: str) -> DataSource:
        """Where ``lang``'s examples are: ``language_data``, ``source_data`` (sources), ``data``."""
        if lang in self.language_data:
            return self.language_data[lang]
        return self.source_data if lang in self.sources and self.source_data else self.data

    def data_key(self, lang: str) -> str:
        """The suite key (below ``tasks.<task>``) of the source :meth:`data_for` picks."""
        if lang in self.language_data:
            return f"language_data.{lang}"
        return "source_data" if lang in self.sources and self.source_data else "data"

    @model_validator(mode="after")
    def _targets_are_not_sources(self) -> TaskSuite:
        shared = [lang for lang in self.targets if lang in self.sources]
        if shared:
            verb = "is" if len(shared) == 1 else "are"
            raise key_error(self, "targets", (
                f"{', '.join(shared)} {verb} also among the task's sources ({', '.join(self.sources)}); "
                "a target is reached by transfer from the sources, so it cannot be one: drop it "
                "from one of the two lists"), self.targets)
        return self

    @model_validator(mode="after")
    def _language_data_of_own_languages(self) -> TaskSuite:
        canonical = {canonical_code(code): source for code, source in self.language_data.items()}
        unknown = sorted(set(canonical) - {*self.targets, *self.sources})
        if unknown:
            raise ValueError(f"language_data names {', '.join(unknown)}, not a target or source "
                             f"of the task; valid: {', '.join((*self.targets, *self.sources))}")
        object.__setattr__(self, "language_data", canonical)
        return self

    @model_validator(mode="after")
    def _languages_the_definition_has(self) -> TaskSuite:
        if self.definition is None:
            return self
        missing = [lang for lang in (*self.targets, *self.sources)
                   if lang not in self.definition.languages]
        if missing:
            raise ValueError(f"languages {', '.join(missing)} are not in the definition's "
                             f"languages; valid: {', '.join(self.definition.languages)}")
        return self

    def data_scope(self, lang: str) -> str:
        """What names ``lang``'s files in a local folder: the definition's config name, or ``lang``."""
        return self.definition.languages[lang] if self.definition is not None else lang

    @field_validator("targets", "sources")
    @classmethod
    def _known_languages(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        return _canonical_languages(codes)


class BackboneDecl(StrictConfig):
    """A backbone of the suite: a registered name, or one the suite declares itself.

    ``{name: xlm-roberta-base}`` is a registered backbone; ``pretrained:`` loads it from a local
    checkpoint or another hub id instead. ``{name: my-xlmr, pretrained: ./ckpt, arch: xlmr}``
    declares a backbone the harness does not know: any name, its weights (a checkpoint directory
    or a hub id) and its architecture family. ``pretrained`` is a path when it starts with
    ``.``, ``/`` or ``~`` or names something that exists next to the suite file (relative paths
    are resolved against that directory, like data paths); otherwise it is a hub id.
    """

    name: str = Field(min_length=1)
    pretrained: str | None = Field(None, min_length=1)
    arch: Arch | None = None

    @field_validator("name")
    @classmethod
    def _name_is_a_folder(cls, name: str) -> str:
        return safe_name(name)

    @model_validator(mode="after")
    def _declared_needs_weights(self) -> BackboneDecl:
        if self.arch is not None and self.pretrained is None:
            raise ValueError(f"backbone {self.name!r} is declared with 'arch: {self.arch}' but no "
                             "'pretrained:'; give a checkpoint directory or a hub id")
        return self

    def resolved(self, base: Path) -> BackboneDecl:
        """A copy whose ``pretrained``, when it is a path, is absolute against ``base``."""
        if self.pretrained is None or not looks_like_path(self.pretrained, base):
            return self
        return self.model_copy(update={
            "pretrained": str((base / Path(self.pretrained).expanduser()).resolve())})


def looks_like_path(value: str, base: Path) -> bool:
    """Whether a ``pretrained:`` value is a local path (see :class:`BackboneDecl`), not a hub id."""
    return value.startswith((".", "/", "~")) or (base / value).exists()


class CorpusSettings(StrictConfig):
    """Monolingual text per language (PAPER.md: 10K × 128 words per target, 50K per source).

    ``target_data``, when given, serves the targets' corpora (e.g. AmericasNLP 2021 text for
    languages without Wikipedia) and ``data`` the sources'.
    """

    data: DataSource
    target_data: DataSource | None = None
    target_samples: int = Field(10_000, gt=0)
    source_samples: int = Field(50_000, gt=0)
    words_per_sample: int = Field(128, gt=0)

    def data_for(self, role: str) -> DataSource:
        """Where a corpus of ``role`` ('source'/'target') is read: ``target_data`` or ``data``."""
        return self.target_data if role == "target" and self.target_data else self.data


#: The readings of the paper a suite can run (docs/fidelity.md): ``paper``, its text (the
#: default); ``authors``, their code at TokisakiKurumi2001/UniBridge@6a38462, which produced
#: the printed numbers. A preset over individual options of the methods' stage configs
#: (:meth:`harness.methods.base.Method.fidelity_preset`).
Fidelity = Literal["paper", "authors"]


class Suite(StrictConfig):
    """A whole suite file.

    ``fidelity``: which reading of the paper the methods follow (:data:`Fidelity`); a method's
    own overrides still win over the profile's values. ``extends``: another suite file
    (relative to this one) whose keys this one starts from (:func:`load_suite`).
    ``pipeline_check``: the suite checks
    that the pipeline runs (tiny models, a few steps), so its scores mean nothing: reports
    print no verdict against the paper for it.
    """

    name: str
    description: str = ""
    fidelity: Fidelity = "paper"
    pipeline_check: bool = False
    #: At least one (an empty list would run no job and write an empty report), each in
    #: numpy's range (the Trainer seeds numpy with it).
    seeds: tuple[Seed, ...] = Field((1,), min_length=1)
    backbones: tuple[BackboneDecl, ...] = Field(min_length=1)
    tasks: dict[str, TaskSuite] = Field(min_length=1)
    methods: dict[str, dict[str, Any]] = Field(min_length=1)
    monolingual: CorpusSettings
    parallel: tuple[ParallelCorpus, ...] = ()
    #: Folders of plugin modules (relative to the suite file), loaded before the names are
    #: checked: :mod:`harness.plugins.loading`.
    include: tuple[Path, ...] = ()
    extends: Path | None = added_option(None)
    path: Path | None = Field(None, exclude=True)
    #: Keys no suite file gives (set by :func:`load_suite`): not listed as valid keys.
    hidden_keys: ClassVar[tuple[str, ...]] = ("path",)

    @field_validator("include", mode="before")
    @classmethod
    def _include_list(cls, value: Any) -> Any:
        return () if value is None else [value] if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _name_is_a_folder(cls, name: str) -> str:
        return safe_name(name)

    @field_validator("tasks", "methods")
    @classmethod
    def _keys_are_folders(cls, entries: dict[str, Any]) -> dict[str, Any]:
        for key in entries:
            safe_name(key)
        return entries

    @field_validator("parallel", mode="before")
    @classmethod
    def _parallel_list(cls, value: Any) -> Any:
        return () if value is None else corpora_from_yaml(value)

    @field_validator("backbones", mode="before")
    @classmethod
    def _backbone_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("methods", mode="before")
    @classmethod
    def _empty_overrides(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(name, str) for name in value):
            return {name: {} for name in value}  # else pydantic's "should be a valid dictionary"
        if isinstance(value, dict):
            return {name: overrides or {} for name, overrides in value.items()}
        return value

    @model_validator(mode="after")
    def _method_backbones_known(self) -> Suite:
        names = [backbone.name for backbone in self.backbones]
        for method, overrides in self.methods.items():
            chosen = overrides.get(METHOD_BACKBONES, names)
            if not isinstance(chosen, list) or not chosen or not all(n in names for n in chosen):
                raise key_error(self, ("methods", method, METHOD_BACKBONES), (
                    f"{_SHORT.repr(chosen)} is not a non-empty list of the suite's backbones "
                    f"(valid: {', '.join(names)})"), chosen)
        return self

    @model_validator(mode="after")
    def _definitions_named(self) -> Suite:
        tasks = dict(self.tasks)
        for name, spec in self.tasks.items():
            if spec.definition is None:
                continue
            try:
                tasks[name] = spec.model_copy(update={"definition": spec.definition.named(name)})
            except ValueError as error:
                raise ValueError(f"tasks.{name}.definition.task: {error}") from None
        object.__setattr__(self, "tasks", tasks)
        return self

    def task_ref(self, task: str) -> str | TaskDefinition:
        """What a stage config names ``task`` by: its definition (a YAML task), else its name."""
        return self.tasks[task].definition or task

    def method_backbones(self, method: str) -> tuple[str, ...]:
        """The backbones ``method`` runs on: its entry's ``backbones:``, else every backbone."""
        names = self.methods[method].get(METHOD_BACKBONES)
        return tuple(names) if names is not None else tuple(b.name for b in self.backbones)

    def method_overrides(self, method: str) -> dict[str, Any]:
        """``method``'s hyperparameter overrides (its entry without ``backbones:``)."""
        return {k: v for k, v in self.methods[method].items() if k != METHOD_BACKBONES}

    def jobs(self) -> list[Job]:
        """Every (method, backbone, task, target, seed) job, in a stable order, IDs unique."""
        jobs = [
            Job(method, backbone.name, task, target, seed)
            for method, backbone, (task, spec), seed in itertools.product(
                self.methods, self.backbones, self.tasks.items(), self.seeds
            )
            if backbone.name in self.method_backbones(method)
            for target in spec.targets
        ]
        ids = [job.job_id for job in jobs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise SuiteError(f"{self.path}: jobs listed twice: {duplicates}")
        return jobs

    def parallel_for(self, target: str, source: str) -> ParallelCorpus:
        """The parallel corpus serving (target, source): the first ``parallel:`` entry listing it.

        Raises:
            DataError: naming the pair and the corpora listed, when none serves it.
        """
        return corpus_for(self.parallel, target, source)

    def backbone(self, name: str) -> BackboneDecl:
        """The suite's entry for backbone ``name``."""
        return next(b for b in self.backbones if b.name == name)


@dataclass(frozen=True, order=True)
class Job:
    """One cell of a results table: a method on a backbone, task and target language."""

    method: str
    backbone: str
    task: str
    lang: str
    seed: int

    @property
    def job_id(self) -> str:
        """Unique, path-safe identifier."""
        return f"{self.method}/{self.backbone}/{self.task}/{self.lang}/seed{self.seed}"

    def matches(self, filters: Mapping[str, Iterable[str]]) -> bool:
        """True when every filtered field (method, backbone, task, lang, seed) has a listed value."""
        return all(str(getattr(self, key)) in values for key, values in filters.items())


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in, recursing into nested mappings."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def method_config(config_cls: type[BaseModel], overrides: Mapping[str, Any],
                  preset: Mapping[str, Any] | None = None) -> BaseModel:
    """The method's config: its defaults, a fidelity ``preset``, then ``overrides``, merged.

    Defaults are the paper's values or an ablation preset; ``preset`` is a fidelity profile's
    options (:meth:`harness.methods.base.Method.fidelity_preset`); the suite's ``overrides`` win.
    """
    merged = deep_merge(config_cls().model_dump(), preset or {})
    return config_cls.model_validate(deep_merge(merged, overrides))


#: Key of a suite file naming the suite file it starts from.
EXTENDS = "extends"
#: How many suites deep ``extends:`` may chain (a loop is refused before this).
MAX_EXTENDS = 8


def load_suite(path: Path, _extending: tuple[Path, ...] = ()) -> Suite:
    """Read and validate ``path``; data paths are resolved against the file's directory.

    A suite with ``extends: other.yaml`` starts from that suite (loaded and resolved against its
    own directory) and deep-merges its own keys over it: mappings merge, anything else
    replaces. It must have a name of its own (its workdir ``runs/<name>`` would otherwise hold
    the other suite's records). Example, the ``authors`` counterpart of a paper suite::

        extends: wikiann.yaml
        name: wikiann-authors
        fidelity: authors
    """
    path = Path(path)
    try:
        raw = read_yaml(path, "suite file")
        if not isinstance(raw, dict):
            raise SuiteError(f"{path}: a suite must be a YAML mapping, got {type(raw).__name__}")
        raw = {key: value for key, value in raw.items() if not str(key).startswith(ANCHOR_PREFIX)}
        raw = _extended(raw, path, _extending)
        raw = definition_files(raw, path, TASKS)
    except YamlFileError as error:
        raise SuiteError(str(error)) from None
    try:
        suite = Suite.model_validate({**raw, "path": path})
    except ValidationError as error:
        raise SuiteError(f"{path}: invalid suite\n{format_validation_error(error, model=Suite)}") from error
    return _resolve_paths(suite, path.parent)


def _extended(raw: dict[str, Any], path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """``raw`` merged over the suite its ``extends:`` names (as dumped, paths absolute)."""
    other = raw.get(EXTENDS)
    if other is None:
        return raw
    if not isinstance(other, str) or not other:
        raise SuiteError(f"{path}: extends: {_SHORT.repr(other)} is not a suite file; valid: a "
                         "path relative to this file, e.g. 'extends: wikiann.yaml'")
    if "\0" in other:
        raise SuiteError(f"{path}: extends: {_SHORT.repr(other)} holds a NUL byte; valid: a path "
                         "relative to this file, e.g. 'extends: wikiann.yaml'")
    base_path = (path.parent / Path(other).expanduser()).resolve()
    chain = (*chain, path.resolve())
    if base_path in chain or len(chain) > MAX_EXTENDS:
        raise SuiteError(f"{path}: extends: {other} closes a loop or chains more than "
                         f"{MAX_EXTENDS} suites ({' -> '.join(p.name for p in (*chain, base_path))}); "
                         "valid: a chain that ends in a suite without 'extends:'")
    if not base_path.is_file():
        raise SuiteError(f"{path}: extends: {other}: no such suite file ({base_path})")
    base = load_suite(base_path, chain)
    if raw.get("name", base.name) == base.name:
        raise SuiteError(f"{path}: name: a suite that extends {other} needs a name of its own "
                         f"(not {base.name!r}): its workdir runs/<name> would hold the other's "
                         "records")
    dumped = base.model_dump(mode="json", exclude={"path", EXTENDS})
    return deep_merge(dumped, raw)


def _resolve_paths(suite: Suite, base: Path) -> Suite:
    tasks = {
        name: spec.model_copy(update={
            "data": spec.data.resolved(base),
            "source_data": spec.source_data and spec.source_data.resolved(base),
            "language_data": {lang: data.resolved(base) for lang, data in spec.language_data.items()},
        })
        for name, spec in suite.tasks.items()
    }
    corpora = suite.monolingual
    monolingual = corpora.model_copy(update={
        "data": corpora.data.resolved(base),
        "target_data": corpora.target_data and corpora.target_data.resolved(base)})
    parallel = tuple(corpus.resolved(base) for corpus in suite.parallel)
    backbones = tuple(backbone.resolved(base) for backbone in suite.backbones)
    include = tuple((base / folder.expanduser()).resolve() for folder in suite.include)
    return suite.model_copy(update={"tasks": tasks, "monolingual": monolingual, "parallel": parallel,
                                    "backbones": backbones, "include": include})
