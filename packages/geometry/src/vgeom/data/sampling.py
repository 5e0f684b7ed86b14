"""Area-weighted surface sampling of triangle meshes and the per-shape "shape_unit" normalisation.

Uniform sampling on a surface S = ∪_f T_f (Osada et al., "Shape Distributions", ACM TOG 2002, §4.2):
pick a triangle with probability p_f = A_f / Σ_g A_g, then a point uniformly inside it. With
r₁, r₂ ~ U(0, 1), the point a + r₁ (b − a) + r₂ (c − a) is uniform on the parallelogram spanned by
(b − a, c − a); folding (r₁, r₂) -> (1 − r₁, 1 − r₂) when r₁ + r₂ > 1 maps the far half onto the
triangle, so the density is 1 / A_f on T_f and the mixture has density 1 / A on S.

Normalisation "shape_unit" (Luo & Hu, "Diffusion Probabilistic Models for 3D Point Cloud
Generation", CVPR 2021, generation setting): per shape X ∈ R^{N×3},

    shift = (1/N) Σ_i x_i,    scale = std({(x_i − shift)_k : i ≤ N, k ≤ 3}),    X̂ = (X − shift) / scale,

so every normalised cloud has mean point 0 and one scalar standard deviation 1 over all its
coordinates (population std, ddof = 0; the reference code takes torch's unbiased std of the
uncentred coordinates, which differs by O(1/N) and by the spread of the axis means).
X = X̂ · scale + shift undoes it.
"""

from __future__ import annotations

import numpy as np

NORMALIZATION_MODE = "shape_unit"
NORMALIZATION_DESCRIPTION = (
    "per shape: subtract the mean point, divide by the standard deviation of all centred coordinates "
    "(one scalar, ddof=0); original = points * scale + shift"
)


def triangle_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area of every triangle: A_f = ½ ‖(b − a) × (c − a)‖, float64 [F]."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def surface_area(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Total area Σ_f A_f of a triangle mesh."""
    return float(triangle_areas(vertices, faces).sum())


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw `n` points uniformly by area on the mesh surface, float64 [n, 3] (see `sample_surface_faces`)."""
    return sample_surface_faces(vertices, faces, n, rng)[0]


def sample_surface_faces(
    vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw `n` points uniformly by area on the mesh surface: points float64 [n, 3] and the face of each.

    Faces are drawn by inverting the cumulative area (one uniform per point), then barycentric
    coordinates with the parallelogram fold (see the module docstring). Raises ValueError for a
    mesh without faces or with zero total area.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3:
        raise ValueError(f"vertices must be [V, 3], got {v.shape}")
    if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise ValueError(f"faces must be a non-empty [F, 3] array, got {f.shape}")
    if f.min() < 0 or f.max() >= len(v):
        raise ValueError("faces index vertices out of range")
    areas = triangle_areas(v, f)
    cumulative = np.cumsum(areas)
    total = cumulative[-1]
    if not np.isfinite(total) or total <= 0.0:
        raise ValueError(f"mesh has no surface area (total {total})")
    u = rng.random(n) * total
    face_index = np.minimum(np.searchsorted(cumulative, u, side="right"), len(f) - 1)
    r = rng.random((n, 2))
    fold = r.sum(axis=1) > 1.0
    r[fold] = 1.0 - r[fold]
    a, b, c = v[f[face_index, 0]], v[f[face_index, 1]], v[f[face_index, 2]]
    points = a + r[:, :1] * (b - a) + r[:, 1:] * (c - a)
    return points, face_index


def normalize_shape_unit(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """X̂ = (X − mean point) / std(all centred coordinates); returns (X̂, shift [3], scale).

    Works in float64; raises ValueError for a cloud whose points all coincide (scale 0).
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 3 or len(x) == 0:
        raise ValueError(f"points must be a non-empty [N, 3] array, got {x.shape}")
    shift = x.mean(axis=0)
    centred = x - shift
    scale = float(np.sqrt(np.mean(centred**2)))
    if not np.isfinite(scale) or scale <= 0.0:
        raise ValueError("cannot normalise a cloud whose points all coincide")
    return centred / scale, shift, scale


def denormalize(points: np.ndarray, shift: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """X = X̂ · scale + shift, for one cloud [N, 3] or a batch [S, N, 3] with shift [S, 3], scale [S]."""
    x = np.asarray(points)
    s = np.asarray(scale)
    t = np.asarray(shift)
    if x.ndim == 3:
        return x * s.reshape(-1, 1, 1) + t.reshape(-1, 1, 3)
    return x * s + t


def resample_points(cloud: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly `n` points of a cloud: a random subset without replacement when it has at least `n`,
    otherwise every point once plus random repeats."""
    x = np.asarray(cloud)
    if len(x) >= n:
        return x[np.sort(rng.choice(len(x), size=n, replace=False))]
    extra = rng.choice(len(x), size=n - len(x), replace=True)
    return np.concatenate([x, x[extra]], axis=0)
