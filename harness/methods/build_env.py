"""What a method builds its stages from: the stages jobs share and each task's data sources.

Example (inside :meth:`harness.methods.base.Method.build`)::

    backbone = env.backbone(job.backbone)             # one stage per backbone, shared
    corpus = env.corpus(job.lang, role="target")       # monolingual text of the target
    data = env.task_data(job.task, job.lang)           # the task's data, keyed by its files

:class:`BuildEnv` hands methods the stages they share (backbones, corpora) and the data sources
of each task; methods never read the suite directly, so that the same wiring serves every suite.
:mod:`harness.planning.plan` makes one per suite; ``validate`` and ``fetch`` make one with
provisional data to list what the selected jobs read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from harness.core.graph import Stage
from harness.data.parallel import ParallelRef
from harness.data.source import DataError, DataRef, DataSource
from harness.models.backbones import BackboneSpec, BackboneStage, backbone_config, backbone_spec
from harness.stages.corpus import CorpusConfig, CorpusStage
from harness.suite.schema import Suite, SuiteError
from harness.tasks.specs import Subword, TaskRef, label_subword

#: The split every method evaluates on.
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
