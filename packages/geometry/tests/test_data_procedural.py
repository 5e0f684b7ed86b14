"""Procedural families: valid closed meshes, determinism per seed, variety across seeds; primitive closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from vgeom.data.procedural import FAMILIES, generate
from vgeom.data.procedural.primitives import (
    box,
    cylinder,
    drop_degenerate,
    merge,
    mirror_x,
    revolution,
    signed_volume,
    superellipsoid,
)
from vgeom.data.sampling import surface_area, triangle_areas

SEEDS = range(12)


def _edge_use(faces: np.ndarray) -> dict[tuple[int, int], int]:
    """Directed edge -> count; in a closed, consistently oriented surface each edge appears once each way."""
    counts: dict[tuple[int, int], int] = {}
    for a, b, c in faces.tolist():
        for edge in ((a, b), (b, c), (c, a)):
            counts[edge] = counts.get(edge, 0) + 1
    return counts


def test_at_least_five_required_categories() -> None:
    assert {"chair", "table", "airplane", "lamp", "vase"} <= set(FAMILIES)


@pytest.mark.parametrize("category", sorted(FAMILIES))
def test_family_meshes_are_valid(category: str) -> None:
    for seed in SEEDS:
        mesh = generate(category, np.random.default_rng(seed))
        assert mesh.vertices.dtype == np.float64
        assert mesh.faces.dtype == np.int64
        assert np.isfinite(mesh.vertices).all()
        assert mesh.faces.min() >= 0
        assert mesh.faces.max() < len(mesh.vertices)
        assert (triangle_areas(*mesh) > 0).all()  # degenerate faces were dropped
        assert signed_volume(mesh) > 0  # parts are closed and oriented outward
        extent = np.ptp(mesh.vertices, axis=0)
        assert (extent > 0.02 * extent.max()).all()  # a 3-D shape, not a flat one


@pytest.mark.parametrize("category", sorted(FAMILIES))
def test_family_is_deterministic_and_varied(category: str) -> None:
    a = generate(category, np.random.default_rng(5))
    b = generate(category, np.random.default_rng(5))
    np.testing.assert_array_equal(a.vertices, b.vertices)
    np.testing.assert_array_equal(a.faces, b.faces)
    shapes = [generate(category, np.random.default_rng(seed)) for seed in SEEDS]
    # proportions: bounding box relative to its largest side, and area relative to the squared diagonal
    descriptors = []
    for mesh in shapes:
        extent = np.ptp(mesh.vertices, axis=0)
        descriptors.append([*(extent / extent.max()), surface_area(*mesh) / float(extent @ extent)])
    d = np.array(descriptors)
    assert len({row.round(6).tobytes() for row in d}) == len(SEEDS)  # all different
    assert d.std(axis=0).max() > 0.03  # proportions really vary


def test_box_area_volume_and_closed_orientation() -> None:
    mesh = box([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert surface_area(*mesh) == pytest.approx(2 * (2 + 3 + 6), rel=1e-12)
    assert signed_volume(mesh) == pytest.approx(6.0, rel=1e-12)
    counts = _edge_use(mesh.faces)
    assert all(counts.get((b, a)) == 1 for (a, b), n in counts.items() if n == 1)
    assert set(counts.values()) == {1}


def test_cylinder_is_a_regular_prism() -> None:
    n, r, h = 12, 0.5, 2.0
    mesh = cylinder([0, 0, 0], [0, h, 0], r, segments=n)
    polygon = 0.5 * n * r**2 * np.sin(2 * np.pi / n)  # area of the regular n-gon
    assert signed_volume(mesh) == pytest.approx(polygon * h, rel=1e-12)
    side = 2 * r * np.sin(np.pi / n)
    assert surface_area(*mesh) == pytest.approx(2 * polygon + n * side * h, rel=1e-12)


def test_superellipsoid_tends_to_the_ellipsoid_volume() -> None:
    mesh = superellipsoid([0, 0, 0], [1.0, 2.0, 3.0], 1.0, 1.0, rings=64, segments=96)
    assert signed_volume(mesh) == pytest.approx(4 / 3 * np.pi * 6.0, rel=5e-3)


def test_revolution_of_a_hollow_profile_encloses_the_wall_volume() -> None:
    """A cup of outer radius 1, inner 0.9, height 1, floor 0.1: V = π(1·1 − 0.81·0.9) for a fine polygon."""
    r = np.array([0.0, 1.0, 1.0, 0.9, 0.9, 0.0])
    y = np.array([0.0, 0.0, 1.0, 1.0, 0.1, 0.1])
    n = 720
    mesh = revolution(r, y, segments=n)
    polygon = 0.5 * n * np.sin(2 * np.pi / n) / np.pi  # n-gon area / circle area
    assert signed_volume(mesh) == pytest.approx(np.pi * (1.0 - 0.81 * 0.9) * polygon, rel=1e-9)


def test_mirror_keeps_orientation_and_drop_degenerate() -> None:
    part = box([1.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    both = merge(part, mirror_x(part))
    assert signed_volume(both) == pytest.approx(2.0, rel=1e-12)
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 2, 2.0]])
    cleaned = drop_degenerate(type(part)(v, np.array([[0, 1, 2], [0, 0, 1], [1, 1, 3]])))
    assert len(cleaned.faces) == 1
    assert len(cleaned.vertices) == 3
