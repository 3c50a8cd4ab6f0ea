"""Block-wise similarity search of stage 2: mutual nearest neighbours, Procrustes, sparsemax.

Example::

    from harness.methods.unibridge.alignment import mutual_nearest_neighbours, sparsemax_combine

    rows, cols = mutual_nearest_neighbours(f_target, f_source)   # Eq. 3: pairs rows[k] <-> cols[k]
    new = sparsemax_combine(f_remaining, f_aligned, e_aligned)   # Eqs. 5-8

The full cosine-similarity matrix of stage 2 can be 60K x 250K (60 GB in fp32): every function
here streams it in tiles of at most ``block_size`` x ``block_size`` (or a bounded number of
elements) and keeps only running reductions, so memory is bounded by the tile, never by
``|V_T| x |V_S|``. Tiles are plain fp32 matrix products of unit-normalised rows, the fastest
kernel torch has on CPU, and reuse preallocated buffers.
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from torch import Tensor

log = logging.getLogger(__name__)

DEFAULT_BLOCK = 4096
_GROUPS = 128  # groups per reduced dimension in _grouped_max (tile sides are multiples of it)
#: Partial-sort size given to :func:`entmax.sparsemax`; it doubles by itself when the support
#: is larger, so this only affects speed.
SPARSEMAX_TOPK = 64


def unit_rows(matrix: Tensor) -> Tensor:
    """Rows scaled to unit L2 norm in fp32 (all-zero rows stay zero), for cosine similarity."""
    import torch

    matrix = matrix.to(torch.float32)
    return matrix / matrix.norm(dim=1, keepdim=True).clamp_min(1e-12)


def mutual_nearest_neighbours(a: Tensor, b: Tensor, block_size: int = DEFAULT_BLOCK,
                              progress: bool = False) -> tuple[Tensor, Tensor]:
    """Eq. 3: pairs ``(i, j)`` where ``b[j]`` is the cosine-nearest row to ``a[i]`` and vice versa.

    The similarity matrix ``S = norm(a) @ norm(b).T`` is computed tile by tile
    (``block_size`` x ``block_size``); each tile updates a running row-wise max/argmax (for the
    rows of ``a``) and column-wise max/argmax (for the rows of ``b``), so every entry of ``S`` is
    computed exactly once and peak extra memory is one tile per worker plus the normalised
    inputs. Ties go to the lowest index, as ``argmax`` over the full matrix does.

    Tiles are shared among ``torch.get_num_threads()`` Python threads that each run torch
    single-threaded (torch releases the GIL): on a few shared cores this keeps every core busy
    with whole tiles instead of synchronising the threads of every small reduction, which
    costs up to half the throughput when other processes compete for the cores.

    Args:
        a: ``[n, d]`` vectors (e.g. F^T of the non-overlapping target tokens).
        b: ``[m, d]`` vectors (e.g. F^S of the source vocabulary).
        block_size: tile side; larger tiles run closer to matmul speed, smaller use less memory.
        progress: show a tqdm bar over tiles.

    Returns:
        ``(rows, cols)``: int64 tensors of equal length, sorted by row; ``a[rows[k]]`` and
        ``b[cols[k]]`` are mutual nearest neighbours.

    """
    import torch

    if a.shape[1] != b.shape[1]:
        raise ValueError(f"dimension mismatch: a is {tuple(a.shape)}, b is {tuple(b.shape)}")
    n, m = a.shape[0], b.shape[0]
    if n == 0 or m == 0:
        return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
    a, b = unit_rows(a), unit_rows(b)
    tiles = [(r0, c0) for r0 in range(0, n, block_size) for c0 in range(0, m, block_size)]
    workers = [_Worker(a, b, block_size) for _ in range(min(torch.get_num_threads(), len(tiles)))]
    with tqdm(total=len(tiles), desc="mutual NN", disable=not progress, unit="tile",
              leave=False) as bar:
        _run_workers(workers, iter(tiles), bar)
    row_arg = _merge([w.row_best for w in workers], [w.row_arg for w in workers])
    col_arg = _merge([w.col_best for w in workers], [w.col_arg for w in workers])
    rows = torch.arange(n)
    mutual = col_arg[row_arg] == rows
    return rows[mutual], row_arg[mutual]


class _Worker:
    """Running row and column maxima over the tiles one thread has processed."""

    def __init__(self, a: Tensor, b: Tensor, block_size: int):
        import torch

        self.a, self.b, self.block_size = a, b, block_size
        self.row_best, self.row_arg = _running(len(a))
        self.col_best, self.col_arg = _running(len(b))
        self.tile = torch.empty(min(block_size, len(a)) * min(block_size, len(b)))

    def process(self, r0: int, c0: int) -> None:
        """Compute one tile of the similarity matrix and fold its maxima in."""
        import torch

        a_block = self.a[r0:r0 + self.block_size]
        b_block = self.b[c0:c0 + self.block_size]
        rows, cols = slice(r0, r0 + len(a_block)), slice(c0, c0 + len(b_block))
        sims = self.tile[: len(a_block) * len(b_block)].view(len(a_block), len(b_block))
        torch.matmul(a_block, b_block.T, out=sims)
        _update(sims, 1, self.row_best[rows], self.row_arg[rows], c0)
        _update(sims, 0, self.col_best[cols], self.col_arg[cols], r0)


def _run_workers(workers: list[_Worker], tiles, bar) -> None:
    """Let each worker take tiles from the shared iterator until none is left."""
    import torch

    lock = threading.Lock()

    def loop(worker: _Worker) -> None:
        while True:
            with lock:
                tile = next(tiles, None)
            if tile is None:
                return
            worker.process(*tile)
            bar.update(1)

    if len(workers) == 1:
        loop(workers[0])
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            for done in [pool.submit(loop, worker) for worker in workers]:
                done.result()  # re-raises a worker's exception
    finally:
        torch.set_num_threads(threads)


def _merge(bests: list[Tensor], args: list[Tensor]) -> Tensor:
    """Arg-max over workers' running maxima; equal maxima go to the lowest index."""
    import torch

    best, arg = torch.stack(bests), torch.stack(args)
    top = best.max(dim=0).values
    return torch.where(best == top, arg, torch.iinfo(torch.long).max).min(dim=0).values


def _running(size: int) -> tuple[Tensor, Tensor]:
    """Start ``size`` running maxima at -inf, their arguments at 0."""
    import torch

    return torch.full((size,), float("-inf")), torch.zeros(size, dtype=torch.long)


def _update(sims: Tensor, dim: int, best: Tensor, arg: Tensor, offset: int) -> None:
    """Fold the max of ``sims`` over ``dim`` into ``best``/``arg`` in place (first index wins)."""
    import torch

    values, indices = _grouped_max(sims, dim)
    better = values > best
    best.copy_(torch.where(better, values, best))
    arg.copy_(torch.where(better, indices + offset, arg))


def _grouped_max(sims: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """``sims.max(dim)`` (values and first arg-max), several times faster on CPU.

    torch's ``max(dim)`` with indices is slow (worst over ``dim=0`` of a row-major tile, where
    it costs about as much as the matmul that made the tile), while ``amax`` is vectorised. So
    split the reduced dimension into groups, take each group's ``amax``, pick the first best
    group, and find the arg-max only inside that group: one fast pass over the tile plus a
    small gather. Values are exact, so the result equals ``sims.max(dim)``.
    """
    import torch

    rows, cols = sims.shape
    if dim == 1:
        groups = math.gcd(cols, _GROUPS)
        grouped = sims.view(rows, groups, cols // groups)
        values, group = grouped.amax(dim=2).max(dim=1)
        inside = grouped[torch.arange(rows), group].argmax(dim=1)
        return values, group * (cols // groups) + inside
    groups = math.gcd(rows, _GROUPS)
    grouped = sims.view(groups, rows // groups, cols)
    values, group = grouped.amax(dim=1).max(dim=0)
    inside = grouped[group, :, torch.arange(cols)].argmax(dim=1)
    return values, group * (rows // groups) + inside


def procrustes(source: Tensor, target: Tensor) -> Tensor:
    """Orthogonal ``W`` minimising ``||source @ W - target||_F`` (Schönemann, 1966).

    Used by the ``semantic_alignment="procrustes"`` option (PAPER.md, "Static embeddings for
    semantic alignment") to map F^S onto F^T before Eq. 3, fitted on the lexically
    overlapping tokens, which both FastText models embed: ``W = U V^T`` where
    ``U S V^T = svd(source^T target)``.

    Args:
        source: ``[k, d]`` anchor rows in the source space.
        target: ``[k, d]`` the same anchors in the target space.

    Returns:
        ``[d, d]`` orthogonal matrix (fp64 computation, returned as fp32).

    """
    import torch

    if source.shape != target.shape:
        raise ValueError(f"shape mismatch: {tuple(source.shape)} vs {tuple(target.shape)}")
    u, _, vh = torch.linalg.svd(source.double().T @ target.double())
    return (u @ vh).float()


def sparsemax_combine(queries: Tensor, keys: Tensor, values: Tensor,
                      max_elements: int = DEFAULT_BLOCK * DEFAULT_BLOCK,
                      progress: bool = False) -> Tensor:
    """Eqs. 5-8: each query's sparsemax-weighted sum of ``values`` by cosine similarity to ``keys``.

    For a query ``a`` (a remaining target token's F^T vector) the cosine similarities ``c_a``
    to every key (the F^T vectors of the aligned tokens ``o``, Eq. 5) go through sparsemax
    (Eq. 6), whose support is S_a (Eq. 7), and the result is ``sum_o w_{a,o} values[o]``
    (Eq. 8). Queries are processed in blocks of ``max_elements // len(keys)`` rows so that the
    similarity block never exceeds ``max_elements`` entries.

    Args:
        queries: ``[q, d]`` vectors of the tokens to initialise.
        keys: ``[k, d]`` vectors of the aligned tokens (``k >= 1``).
        values: ``[k, h]`` embeddings of the aligned tokens (E^T[o]).
        max_elements: bound on the entries of one similarity block.
        progress: show a tqdm bar over blocks.

    Returns:
        ``[q, h]`` tensor in the dtype of ``values``.

    """
    import torch
    from entmax import sparsemax

    if len(keys) == 0 or len(keys) != len(values):
        raise ValueError(f"need as many keys as values, at least one: {len(keys)} vs {len(values)}")
    queries, keys = unit_rows(queries), unit_rows(keys)
    values32 = values.to(torch.float32)
    out = torch.empty(len(queries), values.shape[1], dtype=torch.float32)
    rows = max(1, max_elements // len(keys))
    topk = min(SPARSEMAX_TOPK, len(keys))
    for r0 in tqdm(range(0, len(queries), rows), desc="sparsemax", disable=not progress,
                  leave=False):
        weights = sparsemax(queries[r0:r0 + rows] @ keys.T, dim=-1, k=topk)
        torch.matmul(weights, values32, out=out[r0:r0 + rows])
    return out.to(values.dtype)

