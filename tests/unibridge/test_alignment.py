"""Block-wise mutual nearest neighbours, Procrustes and sparsemax against brute force."""

import math

import numpy as np
import pytest
import torch

from harness.methods.unibridge.alignment import mutual_nearest_neighbours, procrustes, sparsemax_combine


def brute_force_mnn(a, b):
    """Eq. 3 on the full similarity matrix, in float64 numpy."""
    a = a.double().numpy()
    b = b.double().numpy()
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    sims = a @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    row_best, col_best = sims.argmax(axis=1), sims.argmax(axis=0)
    return {(i, int(j)) for i, j in enumerate(row_best) if col_best[j] == i}


def reference_sparsemax(z):
    """Sparsemax (Martins & Astudillo, 2016, Algorithm 1) of one vector, in numpy."""
    ordered = np.sort(z)[::-1]
    cumulative = np.cumsum(ordered)
    k = np.arange(1, len(z) + 1)
    support = k[1 + k * ordered > cumulative].max()
    tau = (cumulative[support - 1] - 1) / support
    return np.maximum(z - tau, 0)


@pytest.mark.parametrize("n, m, d, block", [(37, 53, 7, 8), (53, 37, 7, 10), (37, 53, 7, 4096),
                                            (5, 200, 3, 1), (1, 9, 4, 2), (300, 520, 5, 256)])
def test_mutual_nn_matches_brute_force(n, m, d, block):
    generator = torch.Generator().manual_seed(n * m + block)
    a, b = torch.randn(n, d, generator=generator), torch.randn(m, d, generator=generator)
    rows, cols = mutual_nearest_neighbours(a, b, block_size=block)
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_force_mnn(a, b)
    assert rows.tolist() == sorted(rows.tolist())


def tied_vectors(count, generator):
    """Rows of four +-1 entries among 8: unit rows are +-0.5 and every cosine is a multiple of
    0.25, exact in fp32 whatever the summation order, so ties are real ties."""
    signs = torch.randint(0, 2, (count, 8), generator=generator).float() * 2 - 1
    keep = torch.rand(count, 8, generator=generator).argsort(dim=1) < 4
    return signs * keep


@pytest.mark.parametrize("threads, block", [(1, 3), (2, 256), (3, 7), (2, 16)])
def test_mutual_nn_ties_go_to_the_first_index(threads, block):
    generator = torch.Generator().manual_seed(block)
    a, b = tied_vectors(130, generator), tied_vectors(260, generator)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)  # one worker thread per torch thread
    try:
        rows, cols = mutual_nearest_neighbours(a, b, block_size=block)
    finally:
        torch.set_num_threads(previous)
    assert torch.get_num_threads() == previous
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) == brute_force_mnn(a, b)
    assert len(rows) > 10


def test_mutual_nn_finds_planted_pairs_under_scaling():
    generator = torch.Generator().manual_seed(0)
    b = torch.randn(300, 16, generator=generator)
    planted = torch.randperm(300, generator=generator)[:40]
    scale = torch.rand(40, 1, generator=generator) * 10 + 0.1  # cosine ignores the norm
    a = scale * b[planted] + 0.01 * torch.randn(40, 16, generator=generator)
    rows, cols = mutual_nearest_neighbours(a, b, block_size=7)
    assert rows.tolist() == list(range(40)) and cols.tolist() == planted.tolist()


def test_mutual_nn_empty_inputs():
    rows, cols = mutual_nearest_neighbours(torch.zeros(0, 4), torch.randn(3, 4))
    assert rows.numel() == cols.numel() == 0


def test_procrustes_recovers_a_rotation():
    generator = torch.Generator().manual_seed(1)
    rotation, _ = torch.linalg.qr(torch.randn(12, 12, generator=generator, dtype=torch.float64))
    source = torch.randn(200, 12, generator=generator, dtype=torch.float64)
    noise = torch.randn(200, 12, generator=generator, dtype=torch.float64)
    target = source @ rotation + 0.001 * noise
    found = procrustes(source.float(), target.float()).double()
    assert torch.allclose(found, rotation, atol=1e-3)
    assert torch.allclose(found @ found.T, torch.eye(12, dtype=torch.float64), atol=1e-5)


def test_sparsemax_combine_hand_worked():
    # cosine similarities of the query to the keys: 1.0, 0.8, 0.1
    # sparsemax([1.0, 0.8, 0.1]): support {1, 2}, tau = (1.8 - 1) / 2 = 0.4 -> [0.6, 0.4, 0]
    query = torch.tensor([[2.0, 0.0]])
    keys = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.1, math.sqrt(0.99)]]) * 3
    values = torch.tensor([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    assert torch.allclose(sparsemax_combine(query, keys, values), torch.tensor([[0.6, 0.4]]),
                          atol=1e-6)


@pytest.mark.parametrize("max_elements", [1, 50, 10_000])
def test_sparsemax_combine_matches_brute_force(max_elements):
    generator = torch.Generator().manual_seed(max_elements)
    queries, keys = torch.randn(23, 6, generator=generator), torch.randn(70, 6, generator=generator)
    values = torch.randn(70, 5, generator=generator)
    q = queries.numpy() / np.linalg.norm(queries.numpy(), axis=1, keepdims=True)
    k = keys.numpy() / np.linalg.norm(keys.numpy(), axis=1, keepdims=True)
    weights = np.stack([reference_sparsemax(row) for row in (q @ k.T).astype(np.float64)])
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert (weights == 0).mean() > 0.5  # sparse: most aligned tokens get no weight
    got = sparsemax_combine(queries, keys, values, max_elements=max_elements)
    assert np.allclose(got.numpy(), weights @ values.double().numpy(), atol=1e-5)
