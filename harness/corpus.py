"""The ``corpus`` stage: monolingual text of one or more languages as ``corpus.txt``.

Example::

    stage = CorpusStage(CorpusConfig(langs=("amh",), n_samples=10_000, data=DataRef.of(src)))

Each language contributes ``n_samples`` samples of at most ``words_per_sample`` words
(PAPER.md: 10K × 128 words per target, 50K per source), one sample per line; a language with
less text contributes what it has, and the stage says so in one warning naming every language
short (``validate`` names them before a run). The sample is fixed by ``sample_seed``, not by the job's
training seed, so all seeds of a job adapt on the same text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.data import monolingual
from harness.data.reads import TextRead
from harness.data.source import DataRef
from harness.graph import Stage, StageContext
from harness.shortfalls import SHORTFALL

log = logging.getLogger(__name__)

CORPUS_FILE = "corpus.txt"


class CorpusConfig(BaseModel):
    """Which languages, how many samples each, from which monolingual data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    langs: tuple[str, ...] = Field(min_length=1)
    n_samples: int = Field(gt=0)
    words_per_sample: int = Field(128, gt=0)
    sample_seed: int = 0
    data: DataRef

    def data_reads(self) -> tuple[TextRead, ...]:
        """The text of every language sampled."""
        return tuple(TextRead(lang, self.data.source, self.n_samples, self.words_per_sample)
                     for lang in self.langs)


class CorpusStage(Stage):
    """Sample monolingual text into ``corpus.txt``."""

    kind = "corpus"
    version = 1

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Write the samples of every language, in the order of ``langs``."""
        config: CorpusConfig = self.config
        lines, counts = [], {}
        for lang in config.langs:
            samples = monolingual.load(config.data.source, lang, config.n_samples,
                                       config.words_per_sample, seed=config.sample_seed)
            lines += samples
            counts[lang] = len(samples)
        short = monolingual.samples_shortfall(f"{self.title}: text", counts, config.n_samples,
                                              config.words_per_sample)
        if short:
            log.warning("%s", short, extra=SHORTFALL)
        (out / CORPUS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def summary(self, artifact: Path) -> dict:
        """Number of samples written."""
        with open(artifact / CORPUS_FILE, encoding="utf-8") as handle:
            return {"corpus_lines": sum(1 for _ in handle)}
