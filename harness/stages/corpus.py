"""The ``corpus`` stage: monolingual text of one or more languages as ``corpus.txt``.

Example::

    stage = CorpusStage(CorpusConfig(langs=("amh",), n_samples=10_000, data=DataRef.of(src)))

Each language contributes ``n_samples`` samples of at most ``words_per_sample`` words
(PAPER.md: 10K × 128 words per target, 50K per source), one sample per line; a language with
less text contributes what it has, and the stage says so in one warning naming every language
short (``validate`` names them before a run). The sample is fixed by ``sample_seed``, not by the job's
training seed, so all seeds of a job adapt on the same text.

The samples of each language are counted in ``samples.json``, and the summary names the shortfall
(:data:`harness.core.shortfalls.SHORTFALL_KEY`), so that a run that finds the stage cached says it as a
run that builds it does. An artifact written before ``samples.json`` existed is read as it is (no
version bump, which would rebuild every corpus): a one-language corpus's line count is its sample
count (one sample per line), so its shortfall is exact; a corpus of several languages (only the
tiny backbones' tokenizer text) reports none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.shortfalls import SHORTFALL, SHORTFALL_KEY
from harness.data import monolingual
from harness.data.source import DataRef
from harness.tasks.reads import TextRead

log = logging.getLogger(__name__)

CORPUS_FILE = "corpus.txt"
#: ``{lang: samples written}``, in the order of ``langs``.
SAMPLES_FILE = "samples.json"


class CorpusConfig(StrictConfig):
    """Which languages, how many samples each, from which monolingual data."""

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
        short = self.shortfall(counts)
        if short:
            log.warning("%s: %s", self.title, short, extra=SHORTFALL)
        (out / CORPUS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        (out / SAMPLES_FILE).write_text(json.dumps(counts), encoding="utf-8")

    def shortfall(self, counts: Mapping[str, int]) -> str | None:
        """The languages with fewer samples than asked (:func:`monolingual.samples_shortfall`)."""
        return monolingual.samples_shortfall("text", counts, self.config.n_samples,
                                             self.config.words_per_sample)

    def summary(self, artifact: Path) -> dict:
        """Number of samples written and, when a language gave fewer than asked, the shortfall."""
        with open(artifact / CORPUS_FILE, encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
        short = self.shortfall(self._counts(artifact, lines))
        return {"corpus_lines": lines, **({SHORTFALL_KEY: short} if short else {})}

    def _counts(self, artifact: Path, lines: int) -> dict[str, int]:
        """``samples.json``; for an older artifact, a one-language corpus's line count (see above)."""
        path = artifact / SAMPLES_FILE
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        langs = self.config.langs
        return {langs[0]: lines} if len(langs) == 1 else {}
