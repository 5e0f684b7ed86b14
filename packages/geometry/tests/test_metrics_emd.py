"""Exact EMD: enumeration over all permutations, closed forms, and the pruned nearest-neighbour search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vgeom.metrics.emd import earth_movers_distance, emd_batch, emd_matching, pairwise_emd
from vgeom.metrics.emd_nearest import emd_lower_bounds, nearest_emd_matrix, projection_directions
from vgeom.metrics.generation import coverage, minimum_matching_distance, one_nn_accuracy


def _brute_emd(x: np.ndarray, y: np.ndarray) -> float:
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)
    n = len(x)
    return min(float(cost[np.arange(n), list(p)].mean()) for p in itertools.permutations(range(n)))


@pytest.mark.parametrize(("n", "seed"), [(5, 0), (5, 1), (6, 2), (6, 3)])
def test_emd_equals_minimum_over_all_permutations(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    value, perm = emd_matching(x, y)
    assert value == pytest.approx(_brute_emd(x, y), rel=1e-12)
    assert sorted(perm.tolist()) == list(range(n))
    assert float(np.linalg.norm(x - y[perm], axis=1).mean()) == pytest.approx(value, rel=1e-12)


def test_emd_of_a_translated_cloud_is_the_translation_length() -> None:
    # for any matching, mean |x_i - x_pi(i) - t| >= |mean(x_i - x_pi(i)) - t| = |t|, and the identity attains it
    rng = np.random.default_rng(4)
    x = rng.normal(size=(128, 3))
    t = np.array([0.3, -1.2, 0.4])
    assert earth_movers_distance(x, x + t) == pytest.approx(1.3, rel=1e-12)
    assert earth_movers_distance(x, x[rng.permutation(128)]) == 0.0


def test_emd_is_euclidean_not_squared() -> None:
    x = np.zeros((1, 3))
    y = np.array([[3.0, 4.0, 0.0]])
    assert earth_movers_distance(x, y) == 5.0


def test_emd_rejects_unequal_sizes() -> None:
    with pytest.raises(ValueError, match="equal size"):
        earth_movers_distance(np.zeros((4, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="common count"):
        pairwise_emd(np.zeros((2, 4, 3)), np.ones((2, 5, 3)))


def test_batch_and_pairwise_agree_with_single_pairs() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(4, 16, 3)), rng.normal(size=(3, 16, 3))
    m = pairwise_emd(a, b)
    for i in range(4):
        for j in range(3):
            assert m[i, j] == earth_movers_distance(a[i], b[j])
    np.testing.assert_array_equal(emd_batch(a[:3], b), np.diag(m[:3]))
    self_m = pairwise_emd(a)
    np.testing.assert_array_equal(self_m, self_m.T)
    assert self_m[1, 2] == earth_movers_distance(a[1], a[2])
    assert np.all(np.diag(self_m) == 0)


def test_projection_directions_are_thirteen_distinct_unit_vectors() -> None:
    u = projection_directions()
    assert u.shape == (13, 3)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-15)
    assert np.abs(u @ u.T - np.eye(13)).max() < 1.0 - 1e-9  # no two equal or opposite


def _sets(seed: int, s: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of anisotropic Gaussian blobs, with a duplicated cloud and a shared cloud to force ties."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(s, n, 3)) * rng.uniform(0.3, 1.5, size=(s, 1, 3))
    b = rng.normal(size=(s + 2, n, 3)) * rng.uniform(0.3, 1.5, size=(s + 2, 1, 3))
    a[1] = a[0]
    b[3] = a[2]
    return a, b


def test_lower_bounds_never_exceed_the_exact_emd() -> None:
    a, b = _sets(6, 6, 24)
    lb, full = emd_lower_bounds(a, b), pairwise_emd(a, b)
    assert np.all(lb <= full * (1 + 1e-12))
    assert np.median(lb / np.maximum(full, 1e-300)) > 0.5  # informative, not trivially zero
    lb_self = emd_lower_bounds(a)
    np.testing.assert_array_equal(lb_self, lb_self.T)
    assert np.all(lb_self <= pairwise_emd(a) * (1 + 1e-12))


@pytest.mark.parametrize("seed", [7, 8])
def test_pruned_search_gives_the_metrics_of_the_full_matrices(seed: int) -> None:
    a, b = _sets(seed, 10, 20)
    m_ab, solved_ab = nearest_emd_matrix(a, b)
    m_aa, solved_aa = nearest_emd_matrix(a)
    m_bb, _ = nearest_emd_matrix(b)
    f_ab, f_aa, f_bb = pairwise_emd(a, b), pairwise_emd(a), pairwise_emd(b)
    np.testing.assert_array_equal(m_ab[solved_ab], f_ab[solved_ab])
    np.testing.assert_array_equal(m_aa[solved_aa], f_aa[solved_aa])
    assert solved_ab.sum() < solved_ab.size  # something was pruned
    np.testing.assert_array_equal(m_ab.min(axis=0), f_ab.min(axis=0))
    np.testing.assert_array_equal(m_ab.argmin(axis=1), f_ab.argmin(axis=1))
    assert minimum_matching_distance(m_ab) == minimum_matching_distance(f_ab)
    assert coverage(m_ab) == coverage(f_ab)
    assert one_nn_accuracy(m_aa, m_ab, m_bb) == one_nn_accuracy(f_aa, f_ab, f_bb)
