"""Dynamic time warping with Euclidean local cost, in numpy with O(M) memory.

Sakoe & Chiba 1978, "Dynamic programming algorithm optimization for spoken word recognition" (IEEE TASSP
26(1)), with the symmetric unit-weight step pattern (as in fastdtw and ESPnet's MCD script): for frames
x_1..x_N and y_1..y_M and d(i, j) = ||x_i - y_j||_2,

    D(1, 1) = d(1, 1),    D(i, j) = d(i, j) + min(D(i-1, j-1), D(i-1, j), D(i, j-1)),

and the path from (1, 1) to (N, M) has L(N, M) pairs, max(N, M) <= L <= N + M - 1. On ties the diagonal
step wins, then the vertical one. Row i is computed from row i - 1 in one pass: with
t(j) = d(i, j) + min(D(i-1, j-1), D(i-1, j)) and S(j) = sum_{l <= j} d(i, l), unrolling the horizontal
steps gives D(i, j) = min_{k <= j} t(k) + S(j) - S(k), a running minimum. Only the total cost and the path
length are kept (what an average over aligned frames needs), not the path itself, so a 30-s clip at 5-ms
frames (6,000 x 6,000 pairs) needs no N x M matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DTWResult:
    """Total cost D(N, M) of the optimal path and its number of aligned pairs L(N, M)."""

    cost: float
    path_length: int

    @property
    def mean_cost(self) -> float:
        """Average local cost over the aligned pairs, D(N, M) / L(N, M)."""
        return self.cost / self.path_length


def dtw(x: np.ndarray, y: np.ndarray) -> DTWResult:
    """Optimal alignment of frame sequences x (N, D) and y (M, D) under Euclidean frame distance."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"dtw needs (N, D) and (M, D) arrays, got {x.shape} and {y.shape}")
    if len(x) == 0 or len(y) == 0:
        raise ValueError("dtw needs at least one frame in each sequence")
    index = np.arange(len(y))
    local = np.sqrt(((y - x[0]) ** 2).sum(axis=1))
    cost = np.cumsum(local)
    length = index + 1
    for row in x[1:]:
        local = np.sqrt(((y - row) ** 2).sum(axis=1))
        diag_cost = np.concatenate(([np.inf], cost[:-1]))
        diag_length = np.concatenate(([0], length[:-1]))
        use_diag = diag_cost <= cost
        through = local + np.where(use_diag, diag_cost, cost)
        through_length = np.where(use_diag, diag_length, length) + 1
        cumulative = np.cumsum(local)
        value = through - cumulative
        running = np.minimum.accumulate(value)
        start = np.maximum.accumulate(np.where(value == running, index, 0))
        horizontal = (start < index) & (cumulative + running < through)
        cost = np.where(horizontal, cumulative + running, through)
        length = np.where(horizontal, through_length[start] + index - start, through_length)
    return DTWResult(float(cost[-1]), int(length[-1]))
