"""Benchmark: stage 1's bracketed vocabulary search against the plain linear scan of Algorithm 1.

    python3 benchmarks/vocab_search.py                  # 10K samples x 128 words (paper size)
    python3 benchmarks/vocab_search.py --samples 2000   # quicker

No real monolingual text of that size ships with the harness (and nothing can be downloaded), so
the corpus is synthetic and deterministic: word types are built from a syllable inventory and
drawn with Zipfian frequencies, which gives SentencePiece shared sub-word structure and an ALP
curve that flattens as the vocabulary grows. Both arms get a fresh, empty training cache and
the same SentencePiece options; the script prints each arm's trainings, wall time and found size.
Targets: >= 4x fewer trainings and >= 3x less wall time, same size.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.unibridge.vocab import VocabSearchConfig, run_search

SYLLABLES = [c + v for c in "ptkbdgmnslrwjhfvz" for v in "aeiou"] + ["an", "en", "on", "ar", "ur"]


def synthetic_corpus(samples: int, words: int, types: int, zipf: float, seed: int) -> list[str]:
    """``samples`` lines of ``words`` Zipf-distributed words made of 1-4 syllables."""
    rng = np.random.default_rng(seed)
    lengths = rng.choice([1, 2, 3, 4], size=types, p=[0.15, 0.4, 0.3, 0.15])
    lexicon = ["".join(rng.choice(SYLLABLES, size=n)) for n in lengths]
    weights = 1.0 / np.arange(1, types + 1) ** zipf
    draws = rng.choice(types, size=(samples, words), p=weights / weights.sum())
    return [" ".join(lexicon[i] for i in row) for row in draws]


def run_arm(corpus: Path, config: VocabSearchConfig, fast: bool) -> tuple[dict, float]:
    """One search with a fresh cache: its search.json content and wall seconds."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        report = run_search(corpus, config, Path(out), cache_dir=Path(cache), fast=fast)
        return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=128)
    parser.add_argument("--types", type=int, default=60_000, help="word types in the lexicon")
    parser.add_argument("--zipf", type=float, default=1.05)
    parser.add_argument("--threshold", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = VocabSearchConfig(threshold=args.threshold)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        lines = synthetic_corpus(args.samples, args.words, args.types, args.zipf, seed=0)
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"corpus: {args.samples} samples x {args.words} words (synthetic Zipf {args.zipf}, "
              f"{args.types} types), threshold {args.threshold}")
        linear, linear_s = run_arm(corpus, config, fast=False)
        fast, fast_s = run_arm(corpus, config, fast=True)
    for name, report, seconds in (("linear scan", linear, linear_s), ("bracketed", fast, fast_s)):
        print(f"{name:12s} size {report['vocab_size']:6d}  trainings {report['trainings']:3d}  "
              f"wall {seconds:8.1f} s  ({report['strategy']})")
    print(f"trainings ratio {linear['trainings'] / fast['trainings']:.1f}x, "
          f"wall ratio {linear_s / fast_s:.1f}x, same size: {linear['vocab_size'] == fast['vocab_size']}")
    print("linear trajectory (size: ALP, Δ):", {v: (round(a, 2), round(linear["delta"].get(v, 0), 2))
                                               for v, a in linear["alp"].items()})


if __name__ == "__main__":
    main()
