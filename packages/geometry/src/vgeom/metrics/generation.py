"""Set-level generation metrics from distance matrices: MMD, COV and 1-NNA.

Let G = {g_1..g_A} be generated clouds, R = {r_1..r_B} reference clouds and d a distance between clouds
(Chamfer or EMD), given as matrices D_gr[a, b] = d(g_a, r_b), D_gg and D_rr. Then (Achlioptas et al.,
ICML 2018, §5; Yang et al., "PointFlow", ICCV 2019, §5.1; Lopez-Paz & Oquab, ICLR 2017):

    MMD(G, R)   = (1/B) Σ_b min_a D_gr[a, b]                  minimum matching distance of every reference;
    COV(G, R)   = |{argmin_b D_gr[a, b] : a ≤ A}| / B         fraction of references that are the nearest
                                                            reference of at least one generated cloud;
    1-NNA(G, R) = fraction of the A + B clouds of G ∪ R whose leave-one-out nearest neighbour in G ∪ R
                  lies in their own set (the accuracy of a 1-NN two-sample classifier; 50% is ideal,
                  100% means the sets are told apart, well below 50% means G copies R).

Ties are resolved deterministically: in COV the lowest reference index wins (numpy's argmin); in 1-NNA
a cloud whose nearest same-set and nearest other-set distances are equal counts 1/2, the expected
accuracy of a uniformly random tie-break (so the value does not depend on the order of the sets).
The functions take one matrix family (CD or EMD) at a time, so both distances share this code.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _matrix(d: Any, name: str) -> np.ndarray:
    if hasattr(d, "detach"):
        d = d.detach().cpu().numpy()
    m = np.asarray(d, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] == 0 or m.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D distance matrix, got shape {m.shape}")
    if np.isnan(m).any():
        raise ValueError(f"{name} contains NaN")
    return m


def minimum_matching_distance(d_gr: Any) -> float:
    """MMD = mean over references b of min_a D_gr[a, b], for D_gr [A generated, B references]."""
    m = _matrix(d_gr, "D_gr")
    return float(m.min(axis=0).mean())


def coverage(d_gr: Any) -> float:
    """COV = fraction of references that are argmin_b D_gr[a, b] for some generated a (ties: lowest b)."""
    m = _matrix(d_gr, "D_gr")
    return float(np.unique(m.argmin(axis=1)).size / m.shape[1])


def one_nn_accuracy(d_gg: Any, d_gr: Any, d_rr: Any) -> float:
    """1-NNA over G ∪ R from D_gg [A, A], D_gr [A, B], D_rr [B, B]; equal-distance ties count 1/2."""
    gg, gr, rr = _matrix(d_gg, "D_gg"), _matrix(d_gr, "D_gr"), _matrix(d_rr, "D_rr")
    a, b = gr.shape
    if gg.shape != (a, a) or rr.shape != (b, b):
        raise ValueError(f"shapes disagree: D_gg {gg.shape}, D_gr {gr.shape}, D_rr {rr.shape}")
    gg, rr = gg.copy(), rr.copy()
    np.fill_diagonal(gg, np.inf)  # leave one out
    np.fill_diagonal(rr, np.inf)
    same = np.concatenate([gg.min(axis=1), rr.min(axis=1)])
    other = np.concatenate([gr.min(axis=1), gr.min(axis=0)])
    score = np.where(same < other, 1.0, np.where(same == other, 0.5, 0.0))
    return float(score.mean())
