"""Every metric for two sets of clouds: generation (MMD, COV, 1-NNA under CD and EMD, JSD) and auto-encoding.

Generation (Achlioptas et al. 2018; Yang et al. 2019; Luo & Hu 2021): both sets are normalised cloud by
cloud (`vgeom.metrics.normalize`, default shape_bbox as in Luo & Hu's evaluation), the matrices D_gr,
D_gg, D_rr are computed once per distance (Chamfer, squared convention; exact EMD, Euclidean), and

    MMD-X, COV-X, 1-NNA-X   for X in {CD, EMD}   (`vgeom.metrics.generation`),
    JSD                     28³ occupancy grid in the unit sphere, bits (`vgeom.metrics.jsd`).

COV and 1-NNA are reported in percent; MMD-CD in squared units and MMD-EMD in units of the normalised
frame. EMD needs one point count in both sets; of the S_g·S_r + S_g(S_g−1)/2 + S_r(S_r−1)/2 pairs only
those that lower bounds cannot rule out as row or column minima are solved exactly
(`vgeom.metrics.emd_nearest`; `vgeom.metrics.emd` gives the seconds per pair); it can be switched off.

Auto-encoding (Luo & Hu's test_ae.py): the mean over pairs (x_i, x̂_i) of CD(x_i, x̂_i) and EMD(x_i, x̂_i),
in the coordinates given (the reference de-normalises both to the dataset's original coordinates first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vgeom.metrics.chamfer import paired_chamfer, pairwise_chamfer
from vgeom.metrics.emd import emd_batch, pairwise_emd
from vgeom.metrics.emd_nearest import nearest_emd_matrix
from vgeom.metrics.generation import coverage, minimum_matching_distance, one_nn_accuracy
from vgeom.metrics.jsd import DEFAULT_RESOLUTION, jsd_between_sets, reference_scale
from vgeom.metrics.normalize import DEFAULT_NORMALIZATION, NORMALIZATIONS, normalize_clouds

logger = logging.getLogger(__name__)

GENERATION_METRICS = ("MMD-CD", "MMD-EMD", "COV-CD", "COV-EMD", "1-NNA-CD", "1-NNA-EMD", "JSD")
UNITS = {
    "MMD-CD": "squared distance in the normalised frame (Chamfer: sum of the two mean squared NN distances)",
    "MMD-EMD": "distance in the normalised frame (exact EMD: mean Euclidean distance of an optimal matching)",
    "COV-CD": "percent",
    "COV-EMD": "percent",
    "1-NNA-CD": "percent (50 is ideal)",
    "1-NNA-EMD": "percent (50 is ideal)",
    "JSD": "bits (base-2 logarithms, at most 1)",
    "AE-CD": "squared distance in the coordinates given",
    "AE-EMD": "distance in the coordinates given",
}


@dataclass(frozen=True)
class Evaluation:
    """Metric values (None where skipped) and the settings they were computed under."""

    metrics: dict[str, float | None]
    normalization: str
    n_gen: int
    n_ref: int
    points_gen: int
    points_ref: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: metrics, their units and the settings."""
        return {
            "metrics": dict(self.metrics),
            "units": {k: UNITS[k] for k in self.metrics},
            "normalization": {"mode": self.normalization, "description": NORMALIZATIONS[self.normalization]},
            "clouds": {"gen": self.n_gen, "ref": self.n_ref},
            "points": {"gen": self.points_gen, "ref": self.points_ref},
            **self.extra,
        }


def _as_tensor(x: np.ndarray, device: str | torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=dtype, device=device)


def _check_sets(gen: np.ndarray, ref: np.ndarray) -> None:
    for name, x in (("gen", gen), ("ref", ref)):
        if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] != 3:
            raise ValueError(f"{name} must be a non-empty [S, N, 3] set, got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or Inf coordinates")


def evaluate_generation(
    gen: np.ndarray,
    ref: np.ndarray,
    *,
    normalization: str = DEFAULT_NORMALIZATION,
    emd: bool = True,
    emd_full: bool = False,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    jsd_resolution: int = DEFAULT_RESOLUTION,
    max_bytes: int = 256 * 2**20,
    progress: bool = False,
) -> Evaluation:
    """MMD/COV/1-NNA under CD (and EMD unless `emd=False`) and JSD for generated `gen` against `ref`.

    gen [S_g, N, 3] and ref [S_r, M, 3]; N = M is needed for EMD. Chamfer matrices run on `device` in
    `dtype`; EMD and JSD in float64 on the CPU. EMD solves only the pairs that can be a row or column
    minimum (`vgeom.metrics.emd_nearest`; same metric values), or every pair with `emd_full=True`.
    """
    g = np.asarray(gen, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    _check_sets(g, r)
    if emd and g.shape[1] != r.shape[1]:
        raise ValueError(
            f"EMD needs one point count in both sets, got {g.shape[1]} and {r.shape[1]}: subsample to a "
            "common count or skip EMD"
        )
    g = normalize_clouds(g, normalization)
    r = normalize_clouds(r, normalization)

    tg, tr = _as_tensor(g, device, dtype), _as_tensor(r, device, dtype)
    with torch.inference_mode():
        cd_gr = pairwise_chamfer(tg, tr, max_bytes=max_bytes, progress=progress, desc="CD gen-ref")
        cd_gg = pairwise_chamfer(tg, max_bytes=max_bytes, progress=progress, desc="CD gen-gen")
        cd_rr = pairwise_chamfer(tr, max_bytes=max_bytes, progress=progress, desc="CD ref-ref")
    metrics: dict[str, float | None] = {
        "MMD-CD": minimum_matching_distance(cd_gr),
        "COV-CD": 100.0 * coverage(cd_gr),
        "1-NNA-CD": 100.0 * one_nn_accuracy(cd_gg, cd_gr, cd_rr),
        "MMD-EMD": None,
        "COV-EMD": None,
        "1-NNA-EMD": None,
    }
    s_g, s_r = g.shape[0], r.shape[0]
    emd_pairs = s_g * s_r + s_g * (s_g - 1) // 2 + s_r * (s_r - 1) // 2
    solved = 0
    if emd and emd_full:
        em_gr = pairwise_emd(g, r, progress=progress, desc="EMD gen-ref")
        em_gg = pairwise_emd(g, progress=progress, desc="EMD gen-gen")
        em_rr = pairwise_emd(r, progress=progress, desc="EMD ref-ref")
        solved = emd_pairs
    elif emd:
        em_gr, s_gr = nearest_emd_matrix(g, r, progress=progress, desc="EMD gen-ref")
        em_gg, s_gg = nearest_emd_matrix(g, progress=progress, desc="EMD gen-gen")
        em_rr, s_rr = nearest_emd_matrix(r, progress=progress, desc="EMD ref-ref")
        solved = int(s_gr.sum()) + int(s_gg.sum() - s_g) // 2 + int(s_rr.sum() - s_r) // 2
    if emd:
        logger.info("exact EMD: solved %d of %d pairs of %d points", solved, emd_pairs, g.shape[1])
        metrics["MMD-EMD"] = minimum_matching_distance(em_gr)
        metrics["COV-EMD"] = 100.0 * coverage(em_gr)
        metrics["1-NNA-EMD"] = 100.0 * one_nn_accuracy(em_gg, em_gr, em_rr)
    scale = reference_scale(r)
    metrics["JSD"] = jsd_between_sets(g, r, resolution=jsd_resolution, jsd_scale=scale)
    extra = {
        "emd": {
            "computed": emd,
            "pairs": emd_pairs,
            "assignments_solved": solved,
            "solver": "exact: scipy linear_sum_assignment on float64 Euclidean costs",
            "search": "all pairs" if emd_full else "lower-bound pruning (exact row and column minima)",
        },
        "jsd": {
            "resolution": jsd_resolution,
            "scale": scale,
            "grid": "cell centres in [-0.5, 0.5]^3 kept inside the sphere of radius 0.5; both sets scaled by "
            "0.5 / (max point norm of the normalised reference set)",
        },
    }
    return Evaluation(
        metrics={k: metrics[k] for k in GENERATION_METRICS},
        normalization=normalization,
        n_gen=s_g,
        n_ref=s_r,
        points_gen=g.shape[1],
        points_ref=r.shape[1],
        extra=extra,
    )


def evaluate_autoencoding(
    recon: np.ndarray,
    ref: np.ndarray,
    *,
    normalization: str = "none",
    emd: bool = True,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    progress: bool = False,
) -> Evaluation:
    """AE-CD = mean_i CD(x̂_i, x_i) and AE-EMD = mean_i EMD(x̂_i, x_i) over paired clouds recon[i], ref[i]."""
    x = np.asarray(recon, dtype=np.float64)
    y = np.asarray(ref, dtype=np.float64)
    _check_sets(x, y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"auto-encoding pairs clouds one to one, got {x.shape[0]} and {y.shape[0]} clouds")
    if emd and x.shape[1] != y.shape[1]:
        raise ValueError(f"EMD needs one point count in both sets, got {x.shape[1]} and {y.shape[1]}")
    x = normalize_clouds(x, normalization)
    y = normalize_clouds(y, normalization)
    with torch.inference_mode():
        cd = paired_chamfer(_as_tensor(x, device, dtype), _as_tensor(y, device, dtype))
    metrics: dict[str, float | None] = {"AE-CD": float(cd.mean()), "AE-EMD": None}
    if emd:
        metrics["AE-EMD"] = float(emd_batch(x, y, progress=progress).mean())
    return Evaluation(
        metrics=metrics,
        normalization=normalization,
        n_gen=x.shape[0],
        n_ref=y.shape[0],
        points_gen=x.shape[1],
        points_ref=y.shape[1],
        extra={
            "emd": {
                "computed": emd,
                "pairs": x.shape[0],
                "assignments_solved": x.shape[0] if emd else 0,
                "solver": "exact: scipy linear_sum_assignment on float64 Euclidean costs",
            }
        },
    )
