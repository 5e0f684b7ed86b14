"""Occupancy-grid JSD (Achlioptas et al. 2018): the grid, the counts, closed-form divergences."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from vgeom.metrics.jsd import (
    grid_centres,
    jensen_shannon_divergence,
    jsd_between_sets,
    occupancy_counts,
    reference_scale,
)


def test_grid_has_the_cells_inside_the_sphere() -> None:
    assert grid_centres(28, in_sphere=False).shape == (28**3, 3)
    # centre (i, j, k) / 27 - 1/2 lies in the sphere of radius 1/2 iff (2i-27)^2 + (2j-27)^2 + (2k-27)^2 <= 27^2
    inside = sum(
        1
        for i, j, k in itertools.product(range(28), repeat=3)
        if (2 * i - 27) ** 2 + (2 * j - 27) ** 2 + (2 * k - 27) ** 2 <= 729
    )
    kept = grid_centres(28)
    assert kept.shape == (inside, 3)
    assert np.abs(kept).max() <= 0.5
    assert np.linalg.norm(kept, axis=1).max() <= 0.5
    with pytest.raises(ValueError, match="at least 2"):
        grid_centres(1)


def test_occupancy_counts_points_at_centres_and_outside_points() -> None:
    centres = grid_centres(28)
    picks = np.array([0, 5, 5, 100, len(centres) - 1])
    counts = occupancy_counts(centres[picks][None], 28)
    expected = np.zeros(len(centres), dtype=np.int64)
    np.add.at(expected, picks, 1)
    np.testing.assert_array_equal(counts, expected)
    # a point far out on the +x axis lands on a kept cell with the largest x coordinate
    far = occupancy_counts(np.array([[[10.0, 0.0, 0.0]]]), 28)
    assert far.sum() == 1
    assert centres[np.flatnonzero(far)[0], 0] == centres[:, 0].max()


def test_jsd_closed_forms() -> None:
    p = np.array([3.0, 1.0, 0.0, 0.0])
    assert jensen_shannon_divergence(p, p * 7) == 0.0
    assert jensen_shannon_divergence(p, np.array([0.0, 0.0, 2.0, 5.0])) == pytest.approx(1.0, rel=1e-14)
    assert jensen_shannon_divergence(p, np.array([0.0, 0.0, 2.0, 5.0]), base=math.e) == pytest.approx(
        math.log(2), rel=1e-14
    )
    # P = (1, 0), Q = (1/2, 1/2), M = (3/4, 1/4): JSD = (KL(P||M) + KL(Q||M)) / 2
    kl_p = math.log(1 / 0.75)
    kl_q = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    value = jensen_shannon_divergence(np.array([1.0, 0.0]), np.array([1.0, 1.0]), base=math.e)
    assert value == pytest.approx(0.5 * (kl_p + kl_q), rel=1e-14)
    assert jensen_shannon_divergence(np.array([1.0, 1.0]), np.array([1.0, 0.0]), base=math.e) == value
    with pytest.raises(ValueError, match="non-negative"):
        jensen_shannon_divergence(np.array([1.0, -1.0]), np.array([1.0, 1.0]))


def test_jsd_between_sets_identity_disjoint_and_scale() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 128, 3))
    assert jsd_between_sets(x, x.copy()) == 0.0
    # supports in opposite half-spaces land in disjoint cells: 1 bit (ln 2 nats)
    pos = rng.uniform(0.3, 1.0, size=(6, 64, 3))
    neg = -rng.uniform(0.3, 1.0, size=(5, 64, 3))
    assert jsd_between_sets(pos, neg, jsd_scale=0.2) == pytest.approx(1.0, rel=1e-14)
    assert jsd_between_sets(pos, neg, jsd_scale=0.2, base=math.e) == pytest.approx(math.log(2), rel=1e-14)
    # the default frame follows the reference set: scaling both sets by 2 changes nothing
    y = rng.normal(size=(8, 128, 3))
    assert reference_scale(y * 2) == reference_scale(y) / 2
    assert jsd_between_sets(x * 2, y * 2) == jsd_between_sets(x, y)
    assert 0.0 < jsd_between_sets(x, y) < 1.0
