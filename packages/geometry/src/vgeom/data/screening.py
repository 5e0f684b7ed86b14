"""Screening real meshes before sampling: reasons to drop one, and a signature to spot duplicates.

A mesh is dropped when it has no faces, no surface area, non-finite vertices, or is flat (2-D): the
smallest principal standard deviation of its surface below 1e-3 of the largest. Duplicates (CGAL's data
set holds the same cube, sphere and blob several times, shuffled, translated or scaled) are found by a
similarity-invariant signature of the surface's exact second moments. For a triangle T = (a, b, c) of
area A, with s = a + b + c,

    ∫_T x dA = A s / 3,        ∫_T x xᵀ dA = A (a aᵀ + b bᵀ + c cᵀ + s sᵀ) / 12,

which give the surface covariance Σ. Its eigenvalues divided by tr Σ, with total area / tr Σ, are
invariant to translation, rotation, uniform scale and face order, and are compared after rounding.
"""

from __future__ import annotations

import numpy as np

from vgeom.data.mesh import Mesh
from vgeom.data.sampling import triangle_areas

FLAT_RATIO = 1e-3


def surface_moments(mesh: Mesh) -> tuple[float, np.ndarray, np.ndarray]:
    """Total area A, centroid μ [3] and covariance Σ [3, 3] of the uniform measure on the surface."""
    v = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)]
    areas = triangle_areas(mesh.vertices, mesh.faces)
    total = float(areas.sum())
    s = v.sum(axis=1)
    first = (areas[:, None] * s).sum(axis=0) / 3.0
    second = (areas[:, None] * s).T @ s
    for k in range(3):
        second += (areas[:, None] * v[:, k]).T @ v[:, k]
    mean = first / total
    return total, mean, second / (12.0 * total) - np.outer(mean, mean)


def drop_reason(mesh: Mesh) -> str | None:
    """Why a mesh cannot serve as a shape (None when it can)."""
    if len(mesh.vertices) == 0:
        return "no vertices"
    if len(mesh.faces) == 0:
        return "no faces (a point set)"
    if not np.isfinite(mesh.vertices).all():
        return "non-finite vertex coordinates"
    if not triangle_areas(mesh.vertices, mesh.faces).sum() > 0.0:
        return "zero surface area"
    _, _, cov = surface_moments(mesh)
    eig = np.linalg.eigvalsh(cov)
    if eig[0] <= (FLAT_RATIO**2) * eig[-1]:
        return "flat (2-D) surface"
    return None


def signature(mesh: Mesh, decimals: int = 4) -> tuple[float, ...]:
    """Similarity-invariant fingerprint: sorted eig(Σ) / tr Σ and A / tr Σ, rounded."""
    area, _, cov = surface_moments(mesh)
    eig = np.linalg.eigvalsh(cov)
    trace = float(eig.sum())
    return tuple(float(x) for x in np.round(np.append(eig / trace, area / trace), decimals))
