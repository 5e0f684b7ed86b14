"""Chamfer distance: brute-force loops, closed forms, pairwise matrices and chunking."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from vgeom.metrics.chamfer import chamfer_distance, paired_chamfer, pairwise_chamfer, squared_distances


def _brute_cd(x: np.ndarray, y: np.ndarray) -> float:
    forward = np.mean([min(float(np.sum((p - q) ** 2)) for q in y) for p in x])
    backward = np.mean([min(float(np.sum((p - q) ** 2)) for p in x) for q in y])
    return float(forward + backward)


def _clouds(seed: int, s: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(s, n, 3, generator=g, dtype=torch.float64)


def test_squared_distances_match_differences() -> None:
    x, y = _clouds(0, 2, 7), _clouds(1, 2, 5)
    expected = ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)
    torch.testing.assert_close(squared_distances(x, y), expected, rtol=1e-12, atol=1e-12)


def test_chamfer_matches_brute_force_loop() -> None:
    x, y = _clouds(2, 3, 17), _clouds(3, 3, 11)  # unequal sizes are allowed
    cd = chamfer_distance(x, y)
    for b in range(3):
        assert cd[b].item() == pytest.approx(_brute_cd(x[b].numpy(), y[b].numpy()), rel=1e-12)


def test_chamfer_of_a_cloud_with_itself_is_zero() -> None:
    x = _clouds(4, 2, 64)
    torch.testing.assert_close(
        chamfer_distance(x, x), torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-13
    )


def test_chamfer_closed_forms() -> None:
    # single points: CD = 2 |x - y|^2 (squared convention, both directions summed)
    x = torch.tensor([[0.0, 0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, 2.0, 2.0]], dtype=torch.float64)
    assert chamfer_distance(x, y).item() == pytest.approx(18.0, rel=1e-14)
    # a grid with spacing 1 shifted by t, |t| < 1/2: every point's nearest neighbour is its own copy
    grid = torch.tensor(list(itertools.product(range(4), repeat=3)), dtype=torch.float64)
    t = torch.tensor([0.1, -0.2, 0.05], dtype=torch.float64)
    assert chamfer_distance(grid, grid + t).item() == pytest.approx(2 * float(t @ t), rel=1e-12)


def test_chamfer_is_symmetric_and_rejects_bad_shapes() -> None:
    x, y = _clouds(5, 2, 9), _clouds(6, 2, 13)
    torch.testing.assert_close(chamfer_distance(x, y), chamfer_distance(y, x))
    with pytest.raises(ValueError, match="batch sizes"):
        chamfer_distance(x, y[:1])
    with pytest.raises(ValueError, match="expected"):
        chamfer_distance(x, y[0])


@pytest.mark.parametrize("max_bytes", [1, 9 * 13 * 8 * 5, 2**30])
def test_pairwise_matrix_matches_per_pair_values_for_any_chunking(max_bytes: int) -> None:
    a, b = _clouds(7, 6, 9), _clouds(8, 4, 13)
    m = pairwise_chamfer(a, b, max_bytes=max_bytes)
    assert m.shape == (6, 4)
    for i in range(6):
        for j in range(4):
            assert m[i, j].item() == pytest.approx(_brute_cd(a[i].numpy(), b[j].numpy()), rel=1e-12)


def test_pairwise_self_matrix_is_symmetric_with_zero_diagonal() -> None:
    a = _clouds(9, 5, 8)
    m = pairwise_chamfer(a, max_bytes=8 * 8 * 8 * 3)
    full = pairwise_chamfer(a, a.clone())
    torch.testing.assert_close(m, full, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(m, m.T, rtol=0, atol=0)
    assert torch.all(m.diagonal() == 0)


def test_paired_chamfer_chunks_agree_with_one_batch() -> None:
    x, y = _clouds(10, 7, 12), _clouds(11, 7, 10)
    torch.testing.assert_close(paired_chamfer(x, y, max_bytes=1), chamfer_distance(x, y), rtol=1e-12, atol=0)


def test_float32_chamfer_is_close_to_float64() -> None:
    a, b = _clouds(12, 3, 256), _clouds(13, 2, 200)
    m64 = pairwise_chamfer(a, b)
    m32 = pairwise_chamfer(a.float(), b.float())
    torch.testing.assert_close(m32.double(), m64, rtol=1e-4, atol=1e-6)
