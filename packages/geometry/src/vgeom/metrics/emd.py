"""Exact Earth Mover's Distance between two equal-size point clouds with uniform weights.

For X = {x_i} and Y = {y_j} with N points each and mass 1/N on every point, the optimal transport
plan between two uniform discrete measures of equal size can be taken to be a permutation (Birkhoff–
von Neumann: the transport polytope is N⁻¹ times the doubly stochastic matrices, whose vertices are
permutation matrices), so

    EMD(X, Y) = min_{π ∈ S_N} (1/N) Σ_i ‖x_i − y_π(i)‖,

the mean *Euclidean* (not squared) distance of an optimal matching, as in Rubner et al. (IJCV 2000)
and Achlioptas et al. (ICML 2018). It is solved exactly with scipy's `linear_sum_assignment`
(a shortest-augmenting-path Jonker–Volgenant solver, Crouse, IEEE TAES 2016) on the float64 cost
matrix C_ij = ‖x_i − y_j‖. Luo & Hu (CVPR 2021) and PointFlow report EMD from an approximate CUDA
matcher (Fan et al., CVPR 2017, "approxmatch"), which returns the cost of an approximate, not necessarily
optimal, matching; this module never approximates: it returns the minimum itself.

Cost: building C is O(N²), the assignment O(N³) in the worst case. Measured on one core of this
machine (Intel Xeon, scipy 1.17, other jobs sharing the two cores) between surface-sampled shapes
normalised to their bounding box: at 512 points 0.03-0.07 s per pair (median 0.04 s); at 2048 points
1.4-3.3 s per pair (median 2.0 s) for vgeom's procedural chairs, tables, airplanes, lamps and vases,
0.3-3.2 s (median 1.4 s) for boxes, cylinders, cones and tori; pairs of different shapes are the
slowest. Uniform points on two spheres take 0.016 s and 0.45 s.
A full matrix over S1 × S2 clouds costs S1·S2 assignments (S(S−1)/2 for a set against itself), run here
one pair at a time in this process; `vgeom.metrics.emd_nearest` solves only the pairs that can matter
to MMD, COV and 1-NNA.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from tqdm import tqdm


def as_float64(x: Any) -> np.ndarray:
    """A numpy float64 copy or view of an array or a (CPU or device) torch tensor."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _check_pair(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"expected two [N, D] clouds, got {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"exact EMD with uniform weights needs clouds of equal size, got {x.shape[0]} and {y.shape[0]} "
            "points: subsample both to a common count first"
        )
    if x.shape[0] == 0:
        raise ValueError("EMD of empty clouds is undefined")


def emd_matching(x: Any, y: Any) -> tuple[float, np.ndarray]:
    """(EMD(X, Y), π) for two [N, D] clouds: the optimal matching sends x_i to y_π(i)."""
    xa, ya = as_float64(x), as_float64(y)
    _check_pair(xa, ya)
    cost = cdist(xa, ya)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    return float(cost[rows, cols].mean()), perm


def earth_movers_distance(x: Any, y: Any) -> float:
    """EMD(X, Y) = min_π (1/N) Σ_i ‖x_i − y_π(i)‖ (Euclidean, exact) for two [N, D] clouds."""
    return emd_matching(x, y)[0]


def emd_batch(x: Any, y: Any, *, progress: bool = False, desc: str = "EMD") -> np.ndarray:
    """EMD of paired clouds x[b] and y[b] for [B, N, D] inputs -> float64 [B]."""
    xa, ya = as_float64(x), as_float64(y)
    if xa.ndim != 3 or ya.ndim != 3 or xa.shape[0] != ya.shape[0]:
        raise ValueError(f"expected two [B, N, D] batches of equal B, got {xa.shape} and {ya.shape}")
    out = np.empty(xa.shape[0], dtype=np.float64)
    for b in tqdm(range(xa.shape[0]), desc=desc, unit="pair", disable=not progress, leave=False):
        out[b] = earth_movers_distance(xa[b], ya[b])
    return out


def pairwise_emd(
    a: Any, b: Any | None = None, *, progress: bool = False, desc: str = "pairwise EMD"
) -> np.ndarray:
    """Matrix E[i, j] = EMD(a[i], b[j]) for a [S1, N, D], b [S2, N, D] -> float64 [S1, S2].

    With b None, `a` against itself: only i < j is solved (EMD is symmetric), the diagonal is 0.
    """
    aa = as_float64(a)
    bb = aa if b is None else as_float64(b)
    if aa.ndim != 3 or bb.ndim != 3:
        raise ValueError(f"expected [S, N, D] sets, got {aa.shape} and {bb.shape}")
    if aa.shape[1:] != bb.shape[1:]:
        raise ValueError(
            f"exact EMD needs clouds of one size in both sets, got {aa.shape[1]} and {bb.shape[1]} points "
            f"(dimension {aa.shape[2]} and {bb.shape[2]}): subsample both to a common count first"
        )
    s1, s2 = aa.shape[0], bb.shape[0]
    if b is None:
        pairs = [(i, j) for i in range(s1) for j in range(i + 1, s1)]
    else:
        pairs = [(i, j) for i in range(s1) for j in range(s2)]
    out = np.zeros((s1, s2), dtype=np.float64)
    for i, j in tqdm(pairs, desc=desc, unit="pair", disable=not progress or not pairs, leave=False):
        out[i, j] = earth_movers_distance(aa[i], bb[j])
    if b is None:
        out = out + out.T
    return out
