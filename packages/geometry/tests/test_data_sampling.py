"""Area-weighted surface sampling and the shape_unit normalisation, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from vgeom.data.sampling import (
    denormalize,
    normalize_shape_unit,
    resample_points,
    sample_surface,
    sample_surface_faces,
    surface_area,
    triangle_areas,
)

# Two disjoint triangles: areas 1 (legs 2 and 1) and 3 (legs 3 and 2, in the plane z = 1).
V = np.array([[0, 0, 0], [2, 0, 0], [0, 1, 0], [0, 0, 1], [3, 0, 1], [0, 2, 1]], dtype=np.float64)
F = np.array([[0, 1, 2], [3, 4, 5]])


def test_triangle_areas_closed_form() -> None:
    np.testing.assert_allclose(triangle_areas(V, F), [1.0, 3.0], rtol=0, atol=1e-15)
    assert surface_area(V, F) == pytest.approx(4.0, abs=1e-15)


def test_faces_drawn_in_proportion_to_area() -> None:
    n = 40_000
    _, face = sample_surface_faces(V, F, n, np.random.default_rng(0))
    count = int((face == 1).sum())
    sd = np.sqrt(n * 0.75 * 0.25)  # Binomial(n, 3/4)
    assert abs(count - 0.75 * n) < 4 * sd


def test_points_lie_on_their_triangle() -> None:
    pts, face = sample_surface_faces(V, F, 5000, np.random.default_rng(1))
    # z is 0 on the first triangle and 1 on the second; barycentric coordinates are all >= 0.
    np.testing.assert_array_equal(pts[:, 2], face.astype(np.float64))
    legs = np.where(face[:, None] == 0, [2.0, 1.0], [3.0, 2.0])
    assert (pts[:, :2] >= 0).all()
    assert (pts[:, 0] / legs[:, 0] + pts[:, 1] / legs[:, 1] <= 1 + 1e-12).all()


def test_uniform_within_a_triangle() -> None:
    """On the first triangle, the corner x/2 + y < 1/2 has a quarter of the area; the mean is the centroid."""
    tri_v, tri_f = V[:3], F[:1]
    n = 40_000
    pts = sample_surface(tri_v, tri_f, n, np.random.default_rng(2))
    inside = int((pts[:, 0] / 2 + pts[:, 1] < 0.5).sum())
    assert abs(inside - n / 4) < 4 * np.sqrt(n * 0.25 * 0.75)
    # centroid (2/3, 1/3); per-axis variance of the uniform triangle is below 1, so 5/sqrt(n) bounds the error
    np.testing.assert_allclose(pts.mean(axis=0), [2 / 3, 1 / 3, 0.0], atol=5 / np.sqrt(n))


def test_same_generator_same_points() -> None:
    a = sample_surface(V, F, 100, np.random.default_rng(7))
    b = sample_surface(V, F, 100, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("faces", "message"),
    [(np.zeros((0, 3), dtype=int), "non-empty"), (np.array([[0, 0, 1]]), "no surface area")],
)
def test_sampling_rejects_meshes_without_surface(faces: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample_surface(V, faces, 10, np.random.default_rng(0))


def test_shape_unit_closed_form() -> None:
    """±e_k around (5, -1, 2): mean (5, -1, 2); centred coordinates hold six ±1 among 18 -> scale 1/sqrt(3)."""
    centre = np.array([5.0, -1.0, 2.0])
    cloud = np.concatenate([np.eye(3), -np.eye(3)]) + centre
    normed, shift, scale = normalize_shape_unit(cloud)
    np.testing.assert_allclose(shift, centre, atol=1e-15)
    assert scale == pytest.approx(1 / np.sqrt(3), rel=1e-15)
    np.testing.assert_allclose(normed, (cloud - centre) * np.sqrt(3), atol=1e-14)


def test_shape_unit_moments_and_inverse() -> None:
    cloud = np.random.default_rng(3).normal(size=(500, 3)) * [3.0, 0.5, 1.0] + [10.0, -4.0, 2.0]
    normed, shift, scale = normalize_shape_unit(cloud)
    np.testing.assert_allclose(normed.mean(axis=0), 0.0, atol=1e-13)
    assert normed.std() == pytest.approx(1.0, abs=1e-13)  # one scalar std over all coordinates
    np.testing.assert_allclose(denormalize(normed, shift, scale), cloud, rtol=0, atol=1e-12)
    batch = denormalize(
        np.stack([normed, 2 * normed]), np.stack([shift, shift]), np.array([scale, scale / 2])
    )
    np.testing.assert_allclose(batch, np.stack([cloud, cloud]), atol=1e-12)


def test_shape_unit_rejects_a_single_point() -> None:
    with pytest.raises(ValueError, match="coincide"):
        normalize_shape_unit(np.ones((4, 3)))


def test_resample_points() -> None:
    rng = np.random.default_rng(0)
    cloud = np.arange(30, dtype=np.float64).reshape(10, 3)
    fewer = resample_points(cloud, 4, rng)
    assert len({tuple(p) for p in fewer}) == 4  # without replacement
    more = resample_points(cloud, 25, rng)
    np.testing.assert_array_equal(more[:10], cloud)  # every point kept once, then repeats
    assert {tuple(p) for p in more} == {tuple(p) for p in cloud}
