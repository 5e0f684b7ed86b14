"""Jensen–Shannon divergence between the marginal point distributions of two sets of clouds.

Achlioptas et al. ("Learning Representations and Generative Models for 3D Point Clouds", ICML 2018, §5)
compare where the points of two sets fall in space: a regular grid of R³ cell centres

    c_{ijk} = (i, j, k) / (R − 1) − 1/2,    i, j, k ∈ {0, …, R−1}   (R = 28),

fills the unit cube [−½, ½]³; the centres outside the sphere of radius ½ are dropped; every point of
every cloud of a set is assigned to its nearest kept centre (points outside the sphere land on the
boundary cells), and the counts over the whole set, normalised, give a distribution P over cells.
Then, with M = (P + Q) / 2 and 0 · log 0 = 0,

    JSD(P ‖ Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M) = H(M) − (H(P) + H(Q)) / 2  ∈ [0, log 2].

The reference code (Achlioptas et al.'s, reused by PointFlow and Luo & Hu) uses base-2 logarithms, so
JSD is reported in bits by default (at most 1); base e gives nats (at most ln 2).

The grid is fixed in space, so the clouds must be in the frame the grid expects: `jsd_scale` gives the
factor both sets are multiplied by first. Luo & Hu pass their [−1, 1] shape_bbox clouds unscaled, which
puts most points on the boundary cells; `reference_scale` instead maps the reference set into the
sphere of radius ½ (s = ½ / max point norm of the reference set), the same factor for both sets.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

DEFAULT_RESOLUTION = 28


@lru_cache(maxsize=4)
def grid_centres(resolution: int = DEFAULT_RESOLUTION, in_sphere: bool = True) -> np.ndarray:
    """Cell centres of the R³ grid in [−½, ½]³ (kept only inside the sphere of radius ½ if `in_sphere`): [K, 3]."""
    if resolution < 2:
        raise ValueError(f"grid resolution must be at least 2, got {resolution}")
    axis = np.arange(resolution, dtype=np.float64) / (resolution - 1) - 0.5
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    if in_sphere:
        grid = grid[np.linalg.norm(grid, axis=1) <= 0.5]
    grid.setflags(write=False)
    return grid


def occupancy_counts(
    clouds: np.ndarray, resolution: int = DEFAULT_RESOLUTION, in_sphere: bool = True
) -> np.ndarray:
    """Number of points of the whole set nearest to every kept grid centre: clouds [S, N, 3] -> int64 [K]."""
    x = np.asarray(clouds, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"expected a [S, N, 3] set, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("clouds contain NaN or Inf")
    centres = grid_centres(resolution, in_sphere)
    _, index = cKDTree(centres).query(x.reshape(-1, 3))
    return np.bincount(index, minlength=len(centres)).astype(np.int64)


def jensen_shannon_divergence(p: np.ndarray, q: np.ndarray, base: float = 2.0) -> float:
    """JSD between two non-negative count (or probability) vectors, normalised first; in log-`base` units."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"expected two vectors of one length, got {p.shape} and {q.shape}")
    if (p < 0).any() or (q < 0).any() or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("JSD needs non-negative vectors with positive mass")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl_to_m(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    value = 0.5 * (kl_to_m(p) + kl_to_m(q)) / float(np.log(base))
    return max(float(value), 0.0)


def reference_scale(reference: np.ndarray) -> float:
    """s = ½ / max_{cloud, point} ‖x‖ of the reference set: s·R lies in the grid's sphere of radius ½."""
    r = float(np.sqrt(np.max(np.sum(np.square(np.asarray(reference, dtype=np.float64)), axis=-1))))
    if not np.isfinite(r) or r <= 0.0:
        raise ValueError("the reference set has no extent (all points at the origin) or is not finite")
    return 0.5 / r


def jsd_between_sets(
    gen: np.ndarray,
    ref: np.ndarray,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    jsd_scale: float | None = None,
    base: float = 2.0,
) -> float:
    """JSD between the occupancy distributions of two sets [S, N, 3] on the R³ grid in the unit sphere.

    Both sets are multiplied by `jsd_scale` first; None means `reference_scale(ref)`.
    """
    scale = reference_scale(ref) if jsd_scale is None else float(jsd_scale)
    p = occupancy_counts(np.asarray(gen, dtype=np.float64) * scale, resolution)
    q = occupancy_counts(np.asarray(ref, dtype=np.float64) * scale, resolution)
    return jensen_shannon_divergence(p, q, base=base)
