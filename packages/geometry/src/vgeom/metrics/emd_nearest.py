"""Exact EMD nearest neighbours between two sets without solving every pair: lower bounds, then pruning.

MMD, COV and 1-NNA (`vgeom.metrics.generation`) read a distance matrix only through the minimum of
every row and column (and its argmin). For EMD(X, Y) = min_π (1/N) Σ_i ‖x_i − y_π(i)‖ two cheap bounds
hold for every pair of N-point clouds:

    nearest-neighbour bound:  EMD(X, Y) ≥ max( (1/N) Σ_i min_j ‖x_i − y_j‖,  (1/N) Σ_j min_i ‖x_i − y_j‖ ),
        since every matched partner is at least as far as the nearest point;
    projection bound:         EMD(X, Y) ≥ W₁(u·X, u·Y) = (1/N) Σ_k |(u·x)_(k) − (u·y)_(k)|   for ‖u‖ = 1,
        since |u·(x − y)| ≤ ‖x − y‖ and sorted order is the optimal matching on a line; the maximum over
        the 13 directions of the cube's axes, face diagonals and body diagonals is used.

Let L ≤ EMD be the larger bound. For every line (row, and column unless the matrix is a set against
itself) the candidates are visited in increasing L: the exact EMD is solved (`vgeom.metrics.emd`) while
L ≤ the smallest exact value found so far in that line (solved values are shared between a row and a
column). Every entry left unsolved then has L strictly above the exact minimum of its row and of its
column, so the returned matrix (exact where solved, L elsewhere) has exactly the same row and column
minima and argmins as the full EMD matrix, and MMD-EMD, COV-EMD and 1-NNA-EMD computed from it are
exactly those of the full matrix. Far pairs, which are also the slowest to solve, are the ones skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from tqdm import tqdm

from vgeom.metrics.emd import as_float64, earth_movers_distance

_PRUNE_RTOL = 1e-9
_PRUNE_ATOL = 1e-12


def projection_directions() -> np.ndarray:
    """The 13 unit directions of a cube's 3 axes, 6 face diagonals and 4 body diagonals: [13, 3]."""
    dirs = [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    dirs += [(1, 1, 0), (1, -1, 0), (1, 0, 1), (1, 0, -1), (0, 1, 1), (0, 1, -1)]
    dirs += [(1, 1, 1), (1, 1, -1), (1, -1, 1), (-1, 1, 1)]
    d = np.asarray(dirs, dtype=np.float64)
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def emd_lower_bounds(a: Any, b: Any | None = None) -> np.ndarray:
    """L[i, j] ≤ EMD(a[i], b[j]) (nearest-neighbour and projection bounds) for [S, N, 3] sets -> [S1, S2].

    With b None, `a` against itself (symmetric, zero diagonal).
    """
    aa = as_float64(a)
    bb = aa if b is None else as_float64(b)
    if aa.ndim != 3 or bb.ndim != 3 or aa.shape[1:] != bb.shape[1:] or aa.shape[2] != 3:
        raise ValueError(f"expected two [S, N, 3] sets with one N, got {aa.shape} and {bb.shape}")
    u = projection_directions()
    proj_a = np.sort(aa @ u.T, axis=1)  # [S1, N, 13]
    proj_b = proj_a if b is None else np.sort(bb @ u.T, axis=1)
    trees_a = [cKDTree(x) for x in aa]
    trees_b = trees_a if b is None else [cKDTree(y) for y in bb]
    s1, s2 = aa.shape[0], bb.shape[0]
    out = np.zeros((s1, s2))
    for i in range(s1):
        first = i + 1 if b is None else 0
        sliced = np.abs(proj_a[i][None] - proj_b[first:]).mean(axis=1).max(axis=1)
        for j in range(first, s2):
            d_ab, _ = trees_b[j].query(aa[i])
            d_ba, _ = trees_a[i].query(bb[j])
            out[i, j] = max(float(d_ab.mean()), float(d_ba.mean()), float(sliced[j - first]))
    if b is None:
        out = out + out.T
    return out


def nearest_emd_matrix(
    a: Any, b: Any | None = None, *, progress: bool = False, desc: str = "EMD (pruned)"
) -> tuple[np.ndarray, np.ndarray]:
    """(M, solved): M equals the EMD matrix wherever `solved`, and its lower bound elsewhere.

    Every row and column of M (every row, excluding the diagonal, when b is None) has the same
    minimum and argmin as the full EMD matrix (see the module docstring). a [S1, N, 3], b [S2, N, 3].
    """
    aa = as_float64(a)
    bb = aa if b is None else as_float64(b)
    symmetric = b is None
    bounds = emd_lower_bounds(aa, None if symmetric else bb)
    s1, s2 = bounds.shape
    exact = np.full((s1, s2), np.nan)
    if symmetric:
        np.fill_diagonal(exact, 0.0)
    lines: list[tuple[str, int]] = [("row", i) for i in range(s1)]
    if not symmetric:
        lines += [("col", j) for j in range(s2)]

    solved_count = 0
    with tqdm(total=len(lines), desc=desc, unit="line", disable=not progress, leave=False) as bar:
        for kind, k in lines:
            lb = bounds[k] if kind == "row" else bounds[:, k]
            known = exact[k] if kind == "row" else exact[:, k]
            mask = np.ones(lb.shape[0], dtype=bool)
            if symmetric:
                mask[k] = False
            known_vals = known[mask & ~np.isnan(known)]
            best = float(known_vals.min()) if known_vals.size else np.inf
            for c in np.argsort(lb, kind="stable"):
                if not mask[c]:
                    continue
                if lb[c] > best * (1.0 + _PRUNE_RTOL) + _PRUNE_ATOL:
                    break
                i, j = (k, int(c)) if kind == "row" else (int(c), k)
                if symmetric and i > j:  # solve every pair in one orientation, like `pairwise_emd`
                    i, j = j, i
                if np.isnan(exact[i, j]):
                    value = earth_movers_distance(aa[i], bb[j])
                    exact[i, j] = value
                    if symmetric:
                        exact[j, i] = value
                    solved_count += 1
                best = min(best, float(exact[i, j]))
            bar.update(1)
            bar.set_postfix(solved=solved_count)
    solved = ~np.isnan(exact)
    return np.where(solved, exact, bounds), solved
