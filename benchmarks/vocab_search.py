"""Benchmark: stage 1's default search (k sizes trained at once) against Algorithm 1's serial scan.

    python3 benchmarks/vocab_search.py              # 3 corpora of 600 x 128 words, ~2 min on 2 cores
    python3 benchmarks/vocab_search.py --samples 10000 --corpora 1   # the paper's size (long)

The corpora are synthetic: no real monolingual text ships with the harness and nothing can be
downloaded. They imitate a morphologically rich low-resource language, on which Algorithm 1 lands
above v_i: stems of 1-3 syllables from a CV(C) inventory with Zipfian frequencies, an optional
prefix and 0-3 suffixes per word, all deterministic by seed (corpus i uses seed i and its own Zipf
exponent). Both arms get a fresh, empty training cache and the same SentencePiece options
(``num_threads``: the stage default, 1, unless ``--num-threads`` says otherwise).

Each arm runs ``--repeat`` times, interleaved, each time on an empty cache; its fastest run counts
(other work on shared cores only slows a run down). Printed per corpus: each arm's size,
trainings and wall time, whether the sizes agree, and a projection to ``--project-cores``
cores: Algorithm 1's sizes in batches of k, each batch taking its slowest training's serial
time (measured; a linear fit in v beyond the measured sizes) times the oversubscription
max(1, k·u/cores), u being the cores one training kept busy in the serial arm (CPU time / wall
time). Next to it, the floor: one training at the returned size. Targets (issue
12): the same size as the serial scan on every corpus; wall ≤ 0.6 x the serial scan on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.methods.unibridge.size_search import usable_cores
from harness.methods.unibridge.vocab import SpmTrainer, VocabSearchConfig, run_search, size_grid

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


ZIPF = [0.9, 1.0, 0.8, 1.1]  # corpus i's Zipf exponent of stem frequencies


def run_arms(corpus: Path, config: VocabSearchConfig, lookahead: int, repeat: int,
             tmp: Path) -> tuple[dict, dict]:
    """Serial and default arms, interleaved ``repeat`` times; each arm's fastest run (its cache kept)."""
    runs: dict[int, list[dict]] = {1: [], lookahead: []}
    for attempt in range(repeat):
        for k in runs:
            runs[k].append(run_arm(corpus, config, k, tmp / f"k{k}-{attempt}"))
    serial, ahead = (min(runs[k], key=lambda r: r["wall"]) for k in (1, lookahead))
    return serial, ahead


def run_arm(corpus: Path, config: VocabSearchConfig, lookahead: int, cache: Path) -> dict:
    """One search into the empty ``cache``: search.json's content, wall and CPU seconds, cache."""
    with tempfile.TemporaryDirectory() as out:
        cpu, started = _cpu_seconds(), time.perf_counter()
        report = run_search(corpus, config, Path(out), cache_dir=cache, lookahead=lookahead)
        return report | {"wall": time.perf_counter() - started, "cpu": _cpu_seconds() - cpu,
                         "cache": cache}


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def training_seconds(corpus: Path, config: VocabSearchConfig, cache: Path) -> dict[int, float]:
    """Wall seconds of each training in ``cache`` (recorded in its alp.json)."""
    root = SpmTrainer(corpus, config, cache).root
    entries = (json.loads(path.read_text()) for path in root.glob("*/alp.json"))
    return {entry["size"]: entry["seconds"] for entry in entries}


def project(seconds: dict[int, float], sizes: Sequence[int], k: int, cores: int, busy: float) -> float:
    """Projected wall time of the scan over ``sizes`` with k trainings at once on ``cores``."""
    known = sorted(seconds)
    slope, intercept = (0.0, seconds[known[0]]) if len(known) < 2 else \
        np.polyfit(known, [seconds[v] for v in known], 1)

    def time_of(v: int) -> float:
        return seconds[v] if v in seconds else intercept + slope * v

    slowdown = max(1.0, k * busy / cores)
    batches = [sizes[i:i + k] for i in range(0, len(sizes), k)]
    return sum(max(time_of(v) for v in batch) * slowdown for batch in batches)


def bench_corpus(index: int, args: argparse.Namespace, config: VocabSearchConfig,
                 tmp: Path) -> tuple[float, float, bool]:
    """Both arms on corpus ``index``; prints its lines, returns (serial wall, default wall, same size)."""
    corpus = tmp / f"corpus{index}.txt"
    zipf = ZIPF[index % len(ZIPF)]
    lines = synthetic_corpus(args.samples, args.words, args.stems, zipf, seed=index)
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"corpus {index}: {args.samples} x {args.words} words, Zipf-{zipf} stems, "
          f"{len(set(' '.join(lines).split()))} word types", flush=True)
    serial, ahead = run_arms(corpus, config, args.lookahead, args.repeat, tmp / f"cache{index}")
    print_arm("serial scan", serial)
    print_arm(f"default k={args.lookahead}", ahead)
    same = serial["vocab_size"] == ahead["vocab_size"]
    print(f"  same size as the serial scan: {'yes' if same else 'NO'}; "
          f"wall ratio {ahead['wall'] / serial['wall']:.2f}", flush=True)
    print_projection(corpus, config, serial, args.project_cores)
    return serial["wall"], ahead["wall"], same


def print_arm(name: str, report: dict) -> None:
    """One arm's line, flushed at once."""
    print(f"  {name:14s} size {report['vocab_size']:6d}  trainings {report['trainings']:3d}  "
          f"wall {report['wall']:7.1f} s  cpu/wall {report['cpu'] / report['wall']:.2f}", flush=True)


def print_projection(corpus: Path, config: VocabSearchConfig, serial: dict, cores: int) -> None:
    """Projected time on ``cores`` cores (k = cores and k = cores / num_threads) and the floor."""
    seconds = training_seconds(corpus, config, serial["cache"])
    size = serial["vocab_size"]
    sizes = [v for v in size_grid(config, size) if v <= size] or [size]
    busy = min(serial["cpu"] / serial["wall"], config.num_threads)
    projected = {k: project(seconds, sizes, k, cores, busy)
                 for k in sorted({cores, max(1, cores // config.num_threads)})}
    text = ", ".join(f"k={k}: {t:.1f} s" for k, t in projected.items())
    print(f"  projected on {cores} cores ({len(sizes)} sizes, u={busy:.2f}): {text}; "
          f"floor (one training at {size}): {seconds[size]:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--words", type=int, default=128)
    parser.add_argument("--corpora", type=int, default=3, help="how many synthetic corpora")
    parser.add_argument("--stems", type=int, default=60_000, help="stems in the lexicon")
    parser.add_argument("--threshold", type=float, default=5.0)
    parser.add_argument("--num-threads", type=int, default=VocabSearchConfig().num_threads,
                        help="SentencePiece threads per training (the stage default unless given)")
    parser.add_argument("--lookahead", type=int, default=usable_cores(), help="k (default: usable cores)")
    parser.add_argument("--project-cores", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2,
                        help="interleaved runs per arm; the fastest counts (the cores are shared)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = VocabSearchConfig(threshold=args.threshold, num_threads=args.num_threads)
    print(f"{usable_cores()} usable cores, load average {os.getloadavg()[0]:.1f}, threshold "
          f"{args.threshold}, num_threads {config.num_threads}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench_corpus(i, args, config, Path(tmp)) for i in range(args.corpora)]
    serial, ahead = sum(r[0] for r in results), sum(r[1] for r in results)
    print(f"all corpora: same size {sum(r[2] for r in results)}/{len(results)}; wall {ahead:.1f} s vs "
          f"{serial:.1f} s serial = {ahead / serial:.2f}x (target <= 0.6x); "
          f"load average now {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
