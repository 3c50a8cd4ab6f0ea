"""Wall time of the report's statistics over the whole WikiANN grid (364 cells).

Usage::

    python benchmarks/significance.py                    # 100 sentences per language, B = 1,000
    python benchmarks/significance.py --sentences 1000   # ten times the test sets
    python benchmarks/significance.py --samples 2000 --rounds 10000 --seeds 3

The grid of ``suites/wikiann.yaml``: 26 method × backbone rows × 14 target languages = 364 jobs.
Each cell gets synthetic per-sentence NER counts of realistic size: WikiANN's test split of the
paper's low-resource targets holds ~100 sentences per language (Rahimi et al.'s splits of the
small languages), each with 0–3 entities; ``--sentences`` sets another size. Timed through the
report's own code (:class:`harness.report.annotate.CellSampler`): a 95 % bootstrap interval
per cell (B replicates, draws shared by the cells of one language), then the paired tests the
tables show: every other row of a backbone against its UniBridge row, per language (22 rows ×
14 languages = 308 tests), with Holm over each row's 14 languages.

Target: the 364 intervals in ≤ 10 s on the development machine (2 shared cores).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from harness.report.annotate import CellSampler
from harness.run.records import ResultRecord
from harness.statistics.config import StatisticsConfig
from harness.statistics.multiple import holm

log = logging.getLogger("benchmarks.significance")
LANGUAGES = 14
ROWS = 26
#: UniBridge's row of each backbone -> the rows tested against it (25 pairs over 4 backbones)
REFERENCES = {0: range(1, 9), 9: range(10, 18), 18: range(19, 22), 22: range(23, 26)}
TARGET_S = 10.0


def synthetic_record(row: int, lang: int, seed: int, sentences: int) -> ResultRecord:
    """One job's record with per-sentence tp/fp/fn (the same test set for every row of a language)."""
    entities = np.random.default_rng([lang]).integers(0, 4, sentences)
    rng = np.random.default_rng([row, lang, seed])
    tp = rng.binomial(entities, rng.uniform(0.3, 0.7))
    fp = rng.binomial(2, 0.2, sentences)
    per_example = {"tp": tp.tolist(), "fp": fp.tolist(), "fn": (entities - tp).tolist()}
    return ResultRecord(method=f"m{row}", backbone="b", task="ner", lang=f"l{lang}", seed=seed, metric="f1",
                        value=0.0, config_hash="x", details={"per_example": per_example,
                                                              "split_digest": f"l{lang}"})


def grid(sentences: int, seeds: int) -> list[list[list[ResultRecord]]]:
    """``cells[row][lang]``: the records of one cell (26 rows × 14 languages)."""
    return [[[synthetic_record(r, lang, s, sentences) for s in range(1, seeds + 1)]
             for lang in range(LANGUAGES)] for r in range(ROWS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=100, help="test sentences per language")
    parser.add_argument("--samples", type=int, default=1000, help="bootstrap replicates B")
    parser.add_argument("--rounds", type=int, default=10_000, help="approximate randomisation rounds")
    parser.add_argument("--seeds", type=int, default=1, help="training seeds per cell")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cells = grid(args.sentences, args.seeds)
    sampler = CellSampler(StatisticsConfig(samples=args.samples, rounds=args.rounds))
    started = time.perf_counter()
    found = sampler.estimate_all([cell for row in cells for cell in row])
    intervals_s = time.perf_counter() - started
    samples = [[found[r * LANGUAGES + j][0] for j in range(LANGUAGES)] for r in range(len(cells))]
    started = time.perf_counter()
    pairs = [(reference, row) for reference, rows in REFERENCES.items() for row in rows]
    p_values = {pair: [] for pair in pairs}
    for j in range(LANGUAGES):  # as the report batches them: every pair of one language at once
        results = sampler.paired([(samples[a][j], samples[b][j]) for a, b in pairs], "ner", f"l{j}")
        for pair, (_, p) in zip(pairs, results):
            p_values[pair].append(p)
    for values in p_values.values():
        holm(values)
    paired_s = time.perf_counter() - started
    tests = len(pairs) * LANGUAGES
    n_cells = sum(len(row) for row in cells)
    log.info("%d cells × %d sentences × %d seed(s), B = %d: intervals %.2f s (target ≤ %.0f s: %s)",
             n_cells, args.sentences, args.seeds, args.samples, intervals_s, TARGET_S,
             "met" if intervals_s <= TARGET_S else "MISSED")
    log.info("%d paired tests × %d rounds, Holm per row: %.2f s", tests, args.rounds, paired_s)


if __name__ == "__main__":
    main()
