"""UniBridge with lang2vec weights instead of harmony weights (PAPER.md stage 5; Tables 14–15).

Example (suite YAML)::

    methods:
      unibridge_lang2vec: {lang2vec: {feature_sets: [syntax_knn, phonology_knn, inventory_knn]}}

Everything is UniBridge's (the same stages, so the same keys: they run once for both methods)
except where each (target, source) distance comes from: the typological feature vectors of
URIEL as the ``lang2vec`` package ships them, not the model's hidden states. The package has
the vectors but not URIEL's precomputed distance tables, so the distance is derived here
(docs/choices.md "lang2vec weights"):

    d(t, s) = mean over feature sets f of  1 − cos(v_f(t), v_f(s))

over the five kinds of URIEL distance: syntactic, phonological and phonetic-inventory
features (the ``*_knn`` sets: every feature predicted where the databases are silent, so no
vector has gaps and two languages are compared on the same features), genealogical (``fam``,
membership in each language family) and geographic (``geo``, closeness to fixed points on the
globe). A set where either vector is all zero says nothing and is left out. The weights are
made exactly as harmony weights, w = softmax_s(1 / d(t, s)) (Eqs. 12–13,
:func:`harness.methods.unibridge.harmony.harmony_weights`), so only the distance differs.

A language lang2vec lacks (the paper: pbt; here also grn, nah, oto, olo) gets the same distance
to every source, so its weights are uniform (0.2 each for five sources), as the paper's
footnote to Table 14 says. Codes are lang2vec's ISO 639-3 codes, except the macrolanguages
``ara`` and ``zho``, which URIEL lacks: they are read as Standard Arabic ``arb`` and Mandarin
``cmn``, the Arabic and Chinese of WikiANN, UD and XNLI.
The weights are in each job's ``metrics.json`` details and record (``weights``), each pair's
distance and whether lang2vec knew the target under its ``distance_<source>`` role.
"""  # noqa: D214, D405  (the example's "methods:" is a suite YAML key, not a docstring section)

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.core.config import StrictConfig
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.methods.build_env import BuildEnv
from harness.methods.unibridge.harmony import DISTANCE_FILE
from harness.methods.unibridge.method import UniBridge, UniBridgeConfig
from harness.suite.schema import Job

#: lang2vec's feature sets over URIEL's languages (not ``id``, nor ``learned``, which covers others).
FeatureSet = Literal[
    "syntax_wals", "phonology_wals", "syntax_sswl", "syntax_ethnologue", "phonology_ethnologue",
    "inventory_ethnologue", "inventory_phoible_aa", "inventory_phoible_gm", "inventory_phoible_saphon",
    "inventory_phoible_spa", "inventory_phoible_ph", "inventory_phoible_ra", "inventory_phoible_upsid",
    "syntax_knn", "phonology_knn", "inventory_knn", "syntax_average", "phonology_average",
    "inventory_average", "fam", "geo"]
URIEL_SETS: tuple[FeatureSet, ...] = ("syntax_knn", "phonology_knn", "inventory_knn", "fam", "geo")
#: Harness codes that lang2vec knows under another ISO 639-3 code.
LANG2VEC_CODES = {"ara": "arb", "zho": "cmn"}
#: The distance of a language lang2vec lacks, to every source (any constant gives uniform weights).
UNKNOWN_DISTANCE = 1.0


class Lang2VecConfig(StrictConfig):
    """Which lang2vec feature sets the distance averages over (default: all five URIEL kinds)."""

    feature_sets: tuple[FeatureSet, ...] = Field(URIEL_SETS, min_length=1)


class Lang2VecDistanceConfig(StrictConfig):
    """One (target, source) pair and the feature sets of its distance."""

    lang: str
    source: str
    lang2vec: Lang2VecConfig = Lang2VecConfig()


@cache
def _lang2vec():
    """The ``lang2vec.lang2vec`` module, imported only when a distance stage runs (4 s).

    The lang2vec wheel also installs a script ``lang2vec.py`` into the environment's ``bin/``.
    A console script (``unibridge-bench``) runs with ``bin/`` as ``sys.path[0]``, where that
    script would shadow the package (and look for its data in ``bin/data``), so the import
    leaves out every ``sys.path`` entry holding a top-level ``lang2vec.py``.
    """
    import os
    import sys
    import warnings

    saved = list(sys.path)
    sys.path[:] = [entry for entry in saved if not os.path.isfile(os.path.join(entry or ".", "lang2vec.py"))]
    try:
        with warnings.catch_warnings():  # it imports the deprecated pkg_resources (setuptools < 81)
            warnings.simplefilter("ignore", UserWarning)
            import lang2vec.lang2vec as l2v
    finally:
        sys.path[:] = saved
    return l2v


@cache
def uriel_languages() -> frozenset[str]:
    """The codes lang2vec has URIEL feature vectors for."""
    return frozenset(_lang2vec().available_uriel_languages())


@cache
def _features(feature_set: str) -> dict[str, tuple[float, ...]]:
    """Every URIEL language's vector of ``feature_set``, read once (lang2vec reads its files per call)."""
    table = _lang2vec().get_features(sorted(uriel_languages()), feature_set)
    return {code: tuple(map(float, vector)) for code, vector in table.items()}


def lang2vec_code(lang: str) -> str:
    """The code lang2vec knows ``lang`` by."""
    return LANG2VEC_CODES.get(lang, lang)


def cosine_distance(a: Sequence[float], b: Sequence[float]) -> float | None:
    """1 − cos(a, b); None when either vector is all zero (no information)."""
    norm_a, norm_b = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    if norm_a == 0 or norm_b == 0:
        return None
    return 1.0 - sum(x * y for x, y in zip(a, b)) / (norm_a * norm_b)


def lang2vec_distance(target: str, source: str, feature_sets: Sequence[str] = URIEL_SETS) -> float | None:
    """Mean cosine distance over ``feature_sets``; None when lang2vec cannot compare the two."""
    codes = (lang2vec_code(target), lang2vec_code(source))
    if not set(codes) <= uriel_languages():
        return None
    parts = [cosine_distance(*(_features(name)[code] for code in codes)) for name in feature_sets]
    parts = [d for d in parts if d is not None]
    return sum(parts) / len(parts) if parts else None


class Lang2VecDistanceStage(Stage):
    """Artifact kind ``lang2vec_distance``: ``distance.json`` as a harmony distance stage writes it.

    No inputs: the distance depends on the two codes, the feature sets and the lang2vec release
    (in the key). ``known`` is False when lang2vec lacks a language (the distance is then the
    constant that makes the weights uniform).
    """

    kind = "lang2vec_distance"
    version = 1

    def extra_key(self) -> dict[str, Any]:
        """The lang2vec release: its feature files are the data this stage reads."""
        return {"lang2vec": version("lang2vec")}

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Compute the distance and write ``distance.json``."""
        config: Lang2VecDistanceConfig = self.config
        distance = lang2vec_distance(config.lang, config.source, config.lang2vec.feature_sets)
        record = {"lang": config.lang, "source": config.source, "known": distance is not None,
                  "distance": UNKNOWN_DISTANCE if distance is None else distance,
                  "feature_sets": list(config.lang2vec.feature_sets)}
        atomic_write_text(out / DISTANCE_FILE, json.dumps(record, indent=2))

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The pair, its distance and whether lang2vec knew both languages."""
        return json.loads((artifact / DISTANCE_FILE).read_text(encoding="utf-8"))


class UniBridgeLang2VecConfig(UniBridgeConfig):
    """UniBridge's hyperparameters plus the lang2vec feature sets."""

    lang2vec: Lang2VecConfig = Lang2VecConfig()


class UniBridgeLang2Vec(UniBridge):
    """UniBridge weighting its sources by lang2vec distances (Tables 14–15)."""

    Config = UniBridgeLang2VecConfig
    description = "UniBridge with weights from lang2vec (URIEL) distances instead of harmony weights"

    def parallel_pairs(self, sources: tuple[str, ...]) -> int | None:
        """None: the weights come from URIEL, no parallel sentence is read."""
        return None

    def distance(self, job: Job, env: BuildEnv, source: str, backbone: Stage, target: Stage,
                 language: Stage) -> Stage:
        """The lang2vec distance of (target, source): no model involved."""
        return Lang2VecDistanceStage(Lang2VecDistanceConfig(lang=job.lang, source=source,
                                                            lang2vec=self.config.lang2vec))
