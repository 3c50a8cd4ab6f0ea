"""Stage 2's rule counts (lexical / semantic / weighted / random rows) on the tiny backbones.

Usage::

    python benchmarks/stage2_rules.py --cache /tmp/stage2-cache             # smoke suite's stage 2
    python benchmarks/stage2_rules.py --cache /tmp/stage2-cache --defaults  # the stage's defaults
    python benchmarks/stage2_rules.py --cache /tmp/stage2-cache --repeat --threads 2

Builds, through the harness's own stages and cache, what the smoke suite's ``unibridge`` jobs
feed stage 2 (tiny backbones trained on the fixture text of the five sources, the target corpus
and its vocabulary search) and runs stage 2 for every tiny backbone x smoke target (amh, tgl,
grn). ``--defaults`` replaces the suite's stage-2 overrides (32-d FastText, minCount 1) by the
stage's own defaults (300-d). Keep ``--cache`` between runs to compare code versions on the same
backbones and vocabularies (tiny tokenizers are not retrained then). ``--repeat`` runs each
stage 2 a second time into a scratch directory and prints the largest difference between the
two E^T (0 when the stage is reproducible); ``--threads`` overrides FastText's thread count.

The paper reports 10-15 % of target rows set by the semantic rule (Eq. 3) on WikiANN languages;
the fixtures are far smaller and the backbones tiny, so expect less.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.core.graph import Cache, StageContext, topological_order  # noqa: E402
from harness.methods.unibridge.embeddings import (  # noqa: E402
    EMBEDDINGS_FILE,
    EmbeddingInitConfig,
    EmbeddingInitStage,
)
from harness.methods.unibridge.vocab import VocabSearchStage  # noqa: E402
from harness.planning.plan import prepare  # noqa: E402
from harness.suite.schema import load_suite  # noqa: E402

SUITE = Path(__file__).resolve().parents[1] / "suites" / "smoke.yaml"
RULES = ("lexical", "lexical_casefold", "semantic", "weighted", "random")
#: Reports of stage version 1 called the random rows of rare tokens "fallback".
LEGACY = {"random": "fallback"}


def stage2_stages(defaults: bool, threads: int | None):
    """``(backbone, target, stage)`` for every tiny backbone x smoke target."""
    plan = prepare(load_suite(SUITE), check_data=False)
    config = plan.methods["unibridge"].config
    embeddings = EmbeddingInitConfig() if defaults else config.embeddings
    if threads is not None:
        embeddings = embeddings.model_copy(update={"threads": threads})
    seed = plan.suite.seeds[0]
    targets = dict.fromkeys(lang for spec in plan.suite.tasks.values() for lang in spec.targets)
    for backbone in plan.suite.backbones:
        for lang in targets:
            corpus = plan.env.corpus(lang, role="target")
            vocab = VocabSearchStage(config.vocab, corpus=corpus)
            yield backbone.name, lang, EmbeddingInitStage(
                embeddings, seed=seed, backbone=plan.env.backbone(backbone.name),
                tokenizer=vocab, corpus=corpus)


def rerun_difference(stage: EmbeddingInitStage, cache: Cache, context: StageContext) -> float:
    """Largest |difference| between the cached E^T and a second run of the same stage."""
    inputs = {name: cache.path(upstream) for name, upstream in stage.inputs.items()}
    with tempfile.TemporaryDirectory() as scratch:
        stage.run(replace(context, seed=stage.seed or 0), inputs, Path(scratch))  # as Cache does
        again = torch.load(Path(scratch) / EMBEDDINGS_FILE)
    first = torch.load(cache.path(stage) / EMBEDDINGS_FILE)
    return (first - again).abs().max().item()


def main() -> None:
    """Materialise every stage 2 and print its rule counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="harness cache directory")
    parser.add_argument("--defaults", action="store_true", help="the stage's default config")
    parser.add_argument("--threads", type=int, help="FastText threads (default: the config's)")
    parser.add_argument("--repeat", action="store_true", help="run twice, print max |dE|")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cache = Cache(args.cache)
    context = StageContext(cache=cache, progress=False)
    repeat = " max abs dE |" if args.repeat else ""
    print("| backbone | target | rows | " + " | ".join(RULES) + " | semantic % | drawn pairs |"
          + repeat)
    print("|---" * (len(RULES) + 5 + bool(repeat)) + "|")
    for backbone, lang, stage in stage2_stages(args.defaults, args.threads):
        for needed in topological_order([stage]):
            cache.materialize(needed, context)
        report = stage.summary(cache.path(stage))
        counts = " | ".join(str(report.get(rule, 0) + report.get(LEGACY.get(rule, ""), 0))
                            if rule in report else "-" for rule in RULES)
        share = 100 * report["semantic"] / report["total"]
        drawn = report.get("semantic_with_drawn", "-")
        if args.repeat:
            drawn = f"{drawn} | {rerun_difference(stage, cache, context):.3g}"
        print(f"| {backbone} | {lang} | {report['total']} | {counts} | {share:.2f} | {drawn} |",
              flush=True)


if __name__ == "__main__":
    main()
