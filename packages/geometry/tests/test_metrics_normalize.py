"""The evaluation normalisations: shape_bbox (default, as Luo & Hu's test_gen.py), shape_unit, none."""

from __future__ import annotations

import numpy as np
import pytest

from vgeom.data.sampling import normalize_shape_unit
from vgeom.metrics.normalize import (
    DEFAULT_NORMALIZATION,
    NORMALIZATIONS,
    normalization_parameters,
    normalize_clouds,
)


def _set(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(4, 50, 3)) * np.array([3.0, 1.0, 0.5]) + rng.normal(size=(4, 1, 3)) * 10


def test_default_is_shape_bbox() -> None:
    assert DEFAULT_NORMALIZATION == "shape_bbox"
    assert set(NORMALIZATIONS) == {"shape_bbox", "shape_unit", "none"}


def test_shape_bbox_centres_the_box_and_fits_the_longest_side_to_minus_one_one() -> None:
    y = normalize_clouds(_set(0), "shape_bbox")
    lo, hi = y.min(axis=1), y.max(axis=1)
    np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=1e-14)
    np.testing.assert_allclose((hi - lo).max(axis=1), 2.0, rtol=1e-14)
    np.testing.assert_allclose(np.abs(y).max(axis=(1, 2)), 1.0, rtol=1e-14)
    assert np.all((hi - lo)[:, 2] < 2.0)  # the short axes keep their proportions


def test_shape_bbox_is_invariant_to_translation_and_scale() -> None:
    x = _set(1)
    moved = 2.5 * x + np.array([1.0, -7.0, 3.0])
    np.testing.assert_allclose(
        normalize_clouds(moved, "shape_bbox"), normalize_clouds(x, "shape_bbox"), atol=1e-12
    )


def test_shape_unit_matches_the_dataset_normalisation() -> None:
    x = _set(2)
    y = normalize_clouds(x, "shape_unit")
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-13)
    np.testing.assert_allclose(np.sqrt(np.mean(y**2, axis=(1, 2))), 1.0, rtol=1e-13)
    for cloud, normalised in zip(x, y, strict=True):
        np.testing.assert_allclose(normalize_shape_unit(cloud)[0], normalised, rtol=1e-12, atol=1e-13)


def test_none_and_errors() -> None:
    x = _set(3)
    np.testing.assert_array_equal(normalize_clouds(x, "none"), x)
    shift, scale = normalization_parameters(x, "none")
    assert np.all(shift == 0)
    assert np.all(scale == 1)
    flat = x.copy()
    flat[2] = 1.5  # every point of cloud 2 coincides
    with pytest.raises(ValueError, match="cloud 2 cannot be normalised"):
        normalize_clouds(flat, "shape_bbox")
    with pytest.raises(ValueError, match="unknown normalisation"):
        normalize_clouds(x, "unit_cube")
