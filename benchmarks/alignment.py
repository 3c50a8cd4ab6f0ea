"""Benchmark: block-wise mutual nearest neighbours (stage 2, Eq. 3) at full scale.

    python benchmarks/alignment.py            # 60K x 250K x 300 d (several minutes on 2 cores)
    python benchmarks/alignment.py --quick    # 6K x 25K x 300 d

Prints, for the full problem: wall time, CPU time / wall time (2.0 = both cores busy; less means
the cores were shared with other work), the process's peak resident memory (RSS high-water
mark from ``resource.getrusage``, so it counts the inputs and torch itself; read right after
the mutual-NN run, before anything else is allocated) and the achieved GFLOP/s of the
similarity computation (2 * n * m * d flops).

The reference is a plain ``torch.matmul`` of the same inputs. The full 60K x 250K product
(60 GB) does not fit, so it is timed on output tiles (4096 and 8192 square, the better one
counts). Because the 2 cores are shared and throughput drifts, the comparison is made in
alternating rounds on a slice of the problem (matmul, then mutual NN, on the same rows), and
the median ratio is reported. Targets: peak RSS < 3 GiB, mutual NN >= 70 % of matmul.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import torch

from harness.methods.unibridge.alignment import DEFAULT_BLOCK, mutual_nearest_neighbours, unit_rows

GIB = 1024**3


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(function) -> tuple[float, float]:
    """Wall seconds and CPU seconds / wall seconds of ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu / wall


def plain_matmul(a: torch.Tensor, b: torch.Tensor, tile: int) -> None:
    """Every ``tile`` x ``tile`` block of ``norm(a) @ norm(b).T`` into one reused buffer."""
    out = torch.empty(tile, tile)
    a, b = unit_rows(a), unit_rows(b)
    for r0 in range(0, len(a), tile):
        for c0 in range(0, len(b), tile):
            x, y = a[r0:r0 + tile], b[c0:c0 + tile]
            torch.matmul(x, y.T, out=out[:len(x), :len(y)])


def compare(a: torch.Tensor, b: torch.Tensor, block: int, rounds: int) -> list[float]:
    """Per round: mutual-NN throughput / best plain-matmul throughput on the same inputs."""
    ratios = []
    for k in range(rounds):
        reference = min(timed(lambda t=t: plain_matmul(a, b, t))[0] for t in (4096, 8192))
        seconds = timed(lambda: mutual_nearest_neighbours(a, b, block_size=block))[0]
        ratios.append(reference / seconds)
        print(f"  round {k + 1}: matmul {reference:.2f} s, mutual NN {seconds:.2f} s "
              f"-> {100 * ratios[-1]:.0f} %")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6K x 25K x 300 d")
    parser.add_argument("--n", type=int, default=60_000, help="rows of F^T (target tokens)")
    parser.add_argument("--m", type=int, default=250_000, help="rows of F^S (source tokens)")
    parser.add_argument("--d", type=int, default=300, help="FastText dimension")
    parser.add_argument("--block", type=int, default=DEFAULT_BLOCK, help="tile side")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--rounds", type=int, default=5, help="alternating comparison rounds")
    args = parser.parse_args()
    n, m, d = (6_000, 25_000, args.d) if args.quick else (args.n, args.m, args.d)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, d, generator=generator), torch.randn(m, d, generator=generator)
    before = peak_rss_bytes()
    result: list = []
    seconds, usage = timed(lambda: result.append(mutual_nearest_neighbours(a, b, args.block)))
    peak = peak_rss_bytes()
    print(f"shape {n} x {m} x {d}, block {args.block}, torch threads {torch.get_num_threads()}")
    print(f"mutual NN: {seconds:.1f} s, {len(result[0][0])} pairs, "
          f"{2 * n * m * d / seconds / 1e9:.1f} GFLOP/s, cpu/wall {usage:.2f}")
    print(f"peak RSS (getrusage ru_maxrss): {peak / GIB:.2f} GiB (inputs + torch before the "
          f"run: {before / GIB:.2f} GiB)  target < 3 GiB")
    rows = min(n, 4 * args.block)
    print(f"throughput vs plain torch.matmul, {rows} x {min(m, 16 * args.block)} slice:")
    ratios = compare(a[:rows], b[:16 * args.block], args.block, args.rounds)
    print(f"mutual NN / matmul, median of {len(ratios)}: {100 * statistics.median(ratios):.0f} %"
          "  target >= 70 %")


if __name__ == "__main__":
    main()
