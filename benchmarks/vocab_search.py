"""Benchmark: stage 1's bracketed vocabulary search against the plain linear scan of Algorithm 1.

    python3 benchmarks/vocab_search.py                  # 10K samples x 128 words (paper size)
    python3 benchmarks/vocab_search.py --samples 3000   # what fits in ~10 minutes per arm on 2 cores

The corpus is synthetic: no real monolingual text of 10K x 128 words ships with the harness and
nothing can be downloaded. It imitates a morphologically rich low-resource language, on which
Algorithm 1 lands well above v_i (tens of thousands, as Table 20 reports for WikiANN languages):
stems of 1-3 syllables from a CV(C) inventory with Zipfian frequencies, an optional prefix and 0-3
suffixes per word, all deterministic by seed, which gives a long tail of word types. (A plain
Zipfian word list flattens ALP already at 7000-8000, where nothing can beat the linear scan.)
Both arms get a fresh, empty training cache and the same SentencePiece options; the script prints
each arm's trainings, wall time and found size. Targets: >= 4x fewer trainings and >= 3x less
wall time, same size.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.unibridge.vocab import VocabSearchConfig, run_search

ONSETS = list("ptkbdgmnslrwjhfvz") + ["ts", "ny", "sh"]
CODAS = [""] * 8 + ["n", "r"]


def zipf_weights(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def morphemes(rng: np.random.Generator, count: int, syllables: Sequence[str], lengths, p) -> list[str]:
    """``count`` morphemes of ``lengths`` syllables (drawn with probabilities ``p``)."""
    return ["".join(rng.choice(syllables, size=n)) for n in rng.choice(lengths, size=count, p=p)]


def synthetic_corpus(samples: int, words: int, stems: int, zipf: float, seed: int) -> list[str]:
    """``samples`` lines of ``words`` words: [prefix] stem suffix{0..3}, stems and affixes Zipfian."""
    rng = np.random.default_rng(seed)
    syllables = sorted({o + v + c for o in ONSETS for v in "aeiou" for c in CODAS})
    stem_list = morphemes(rng, stems, syllables, [1, 2, 3], [0.3, 0.5, 0.2])
    prefixes, suffixes = morphemes(rng, 12, syllables, [1], [1.0]), morphemes(rng, 80, syllables, [1], [1.0])
    total = samples * words
    stem = rng.choice(stems, size=total, p=zipf_weights(stems, zipf))
    prefix = np.where(rng.random(total) < 0.35, rng.choice(12, size=total, p=zipf_weights(12, 1.0)), -1)
    suffix_count = rng.choice(4, size=total, p=[0.35, 0.4, 0.2, 0.05])
    suffix = rng.choice(80, size=(total, 3), p=zipf_weights(80, 1.0))
    tokens = [(prefixes[prefix[i]] if prefix[i] >= 0 else "") + stem_list[stem[i]]
              + "".join(suffixes[s] for s in suffix[i, :suffix_count[i]]) for i in range(total)]
    return [" ".join(tokens[k * words:(k + 1) * words]) for k in range(samples)]


def run_arm(corpus: Path, config: VocabSearchConfig, fast: bool) -> tuple[dict, float]:
    """One search with a fresh cache: its search.json content and wall seconds."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        report = run_search(corpus, config, Path(out), cache_dir=Path(cache), fast=fast)
        return report, time.perf_counter() - started


def print_arm(name: str, report: dict, seconds: float) -> None:
    """One arm's line, flushed at once."""
    print(f"{name:12s} size {report['vocab_size']:6d}  trainings {report['trainings']:3d}  "
          f"wall {seconds:8.1f} s  ({report['strategy']})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=128)
    parser.add_argument("--stems", type=int, default=60_000, help="stems in the lexicon")
    parser.add_argument("--zipf", type=float, default=0.9, help="Zipf exponent of stem frequencies")
    parser.add_argument("--threshold", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = VocabSearchConfig(threshold=args.threshold)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        lines = synthetic_corpus(args.samples, args.words, args.stems, args.zipf, seed=0)
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"corpus: {args.samples} samples x {args.words} words (synthetic, morphologically "
              f"rich: {args.stems} Zipf-{args.zipf} stems, 12 prefixes, 80 suffixes, "
              f"{len(set(' '.join(lines).split()))} word types), threshold {args.threshold}",
              flush=True)
        fast, fast_s = run_arm(corpus, config, fast=True)  # the cheaper arm first: a long run
        print_arm("bracketed", fast, fast_s)                # cut short still reports it
        linear, linear_s = run_arm(corpus, config, fast=False)
        print_arm("linear scan", linear, linear_s)
    print(f"trainings ratio {linear['trainings'] / fast['trainings']:.1f}x, "
          f"wall ratio {linear_s / fast_s:.1f}x, same size: {linear['vocab_size'] == fast['vocab_size']}")
    print("linear trajectory (size: ALP, Δ):", {v: (round(a, 2), round(linear["delta"].get(v, 0), 2))
                                               for v, a in linear["alp"].items()})


if __name__ == "__main__":
    main()
