"""Chamfer distance between point clouds, batched and as a memory-bounded pairwise matrix.

Convention (squared distances, as in Achlioptas et al., "Learning Representations and Generative Models
for 3D Point Clouds", ICML 2018, and in the evaluation code of Luo & Hu, CVPR 2021, which takes it from
PointFlow, Yang et al. 2019): for X = {x_i} (N points) and Y = {y_j} (M points),

    CD(X, Y) = (1/N) Σ_i min_j ‖x_i − y_j‖²  +  (1/M) Σ_j min_i ‖x_i − y_j‖².

No square root is taken and the two means are summed (not averaged); CD(X, X) = 0, and for single
points CD({x}, {y}) = 2‖x − y‖².

The squared distances come from one batched matrix product, ‖x‖² + ‖y‖² − 2 x·y (clamped at 0):
with K = 3 this is memory-bound, so the pairwise matrix is evaluated over chunks of pairs whose
[chunk, N, M] distance tensor fits in `max_bytes`. In float32 the expansion loses about 1e-7 · ‖x‖²
to cancellation (so CD(X, X) is ~1e-7, not 0, for unit-sized clouds); pass float64 tensors for exact
comparisons.
"""

from __future__ import annotations

import torch
from tqdm import tqdm


def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """D[b, i, j] = ‖x[b, i] − y[b, j]‖² for x [B, N, D], y [B, M, D]; returns [B, N, M], clamped ≥ 0."""
    x_sq = x.square().sum(-1)
    y_sq = y.square().sum(-1)
    d = torch.baddbmm(y_sq.unsqueeze(-2), x, y.transpose(-1, -2), alpha=-2.0)
    return d.add_(x_sq.unsqueeze(-1)).clamp_min_(0.0)


def nearest_squared(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared distance from every point to the other cloud: (min_j ‖x_i − y_j‖² [B, N], min_i … [B, M])."""
    d = squared_distances(x, y)
    return d.amin(dim=-1), d.amin(dim=-2)


def chamfer_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """CD(X, Y) (squared convention, see the module docstring) for [B, N, 3] x [B, M, 3] -> [B], or [N, 3] -> []."""
    if x.dim() != y.dim() or x.dim() not in (2, 3) or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"expected two [B, N, D] or two [N, D] clouds, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    single = x.dim() == 2
    if single:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"batch sizes differ: {x.shape[0]} and {y.shape[0]}")
    d_xy, d_yx = nearest_squared(x, y)
    cd = d_xy.mean(dim=-1) + d_yx.mean(dim=-1)
    return cd[0] if single else cd


def paired_chamfer(x: torch.Tensor, y: torch.Tensor, *, max_bytes: int = 256 * 2**20) -> torch.Tensor:
    """CD(x[b], y[b]) for [B, N, 3] x [B, M, 3] -> [B], in chunks whose [chunk, N, M] tensor fits `max_bytes`."""
    if x.dim() != 3 or y.dim() != 3 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected two [B, N, D] batches of equal B, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    chunk = max(1, max_bytes // max(1, x.shape[1] * y.shape[1] * x.element_size()))
    parts = [chamfer_distance(x[i : i + chunk], y[i : i + chunk]) for i in range(0, x.shape[0], chunk)]
    return torch.cat(parts) if parts else x.new_zeros(0)


def pairwise_chamfer(
    a: torch.Tensor,
    b: torch.Tensor | None = None,
    *,
    max_bytes: int = 256 * 2**20,
    progress: bool = False,
    desc: str = "pairwise CD",
) -> torch.Tensor:
    """Matrix C[i, j] = CD(a[i], b[j]) for a [S1, N, 3], b [S2, M, 3] -> [S1, S2].

    With b None the matrix of `a` against itself is returned: only the pairs i < j are computed
    (CD is symmetric) and the diagonal is 0. Pairs are evaluated in chunks whose distance tensor
    [chunk, N, M] takes at most `max_bytes` (at least one pair per chunk). Runs on a's device and dtype.
    """
    symmetric = b is None
    other = a if b is None else b
    if a.dim() != 3 or other.dim() != 3 or a.shape[-1] != other.shape[-1]:
        raise ValueError(f"expected [S, N, D] sets, got {tuple(a.shape)} and {tuple(other.shape)}")
    other = other.to(device=a.device, dtype=a.dtype)
    s1, n = a.shape[0], a.shape[1]
    s2, m = other.shape[0], other.shape[1]
    out = torch.zeros(s1, s2, dtype=a.dtype, device=a.device)
    if symmetric:
        rows, cols = torch.triu_indices(s1, s1, offset=1, device=a.device)
    else:
        rows = torch.arange(s1, device=a.device).repeat_interleave(s2)
        cols = torch.arange(s2, device=a.device).repeat(s1)
    per_pair = max(1, n * m * a.element_size())
    chunk = max(1, max_bytes // per_pair)
    total = int(rows.numel())
    with tqdm(total=total, desc=desc, unit="pair", disable=not progress or total == 0, leave=False) as bar:
        for start in range(0, total, chunk):
            i = rows[start : start + chunk]
            j = cols[start : start + chunk]
            d_xy, d_yx = nearest_squared(a[i], other[j])
            out[i, j] = d_xy.mean(dim=-1) + d_yx.mean(dim=-1)
            bar.update(int(i.numel()))
    if symmetric:
        out = out + out.T
    return out
