r"""The shallow-diffusion boundary k (Liu et al. 2022, sec. 3.3), by the closed-form KL between the
diffused ground-truth and auxiliary mels, not by a trained boundary predictor.

The paper trains a boundary predictor (BP) to tell x_t ~ q(x_t | m_gt) from x_t ~ q(x_t | m_aux) and
takes k where it no longer can. With the Gaussian forward process both distributions are known:

    q(x_t | m) = N(sqrt(ab_t) m, (1 - ab_t) I),
    KL(q(x_t | m_gt) || q(x_t | m_aux)) = ab_t ||m_gt - m_aux||^2 / (2 (1 - ab_t))      (per element),

so this module computes, over validation phrases (x = 2 m - 1 scale), the mean squared gap
g = mean (x_gt - x_aux)^2 and the per-element KL_t = ab_t g / (2 (1 - ab_t)), which decreases in t.
k is the smallest step t in 1..T with KL_t <= kappa, or T if none.

Threshold. For two equal-variance Gaussians with KL = kappa per element, the best classifier of one
element is right with probability Phi(sqrt(kappa / 2)) (mean gap delta, delta^2 / sigma^2 = 2 kappa,
accuracy Phi(delta / (2 sigma))). "Can no longer tell" is taken as a per-element Bayes accuracy of at
most 55 % (`ACCURACY`), so kappa = 2 Phi^-1(0.55)^2 = 0.0316 nats. Identical mels (g = 0) give k = 1;
a gap that never closes within the schedule gives k = T.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import torch
from torch import Tensor

ACCURACY = 0.55


def threshold_for_accuracy(accuracy: float = ACCURACY) -> float:
    """kappa = 2 Phi^-1(accuracy)^2: the per-element KL at which a Bayes classifier reaches `accuracy`."""
    if not 0.5 < accuracy < 1.0:
        raise ValueError(f"accuracy must lie in (0.5, 1), got {accuracy}")
    return 2.0 * NormalDist().inv_cdf(accuracy) ** 2


def kl_per_step(gap_sq: float, alpha_bar: Tensor) -> Tensor:
    """KL_t = ab_t g / (2 (1 - ab_t)) for every step (float64 [T])."""
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return ab * gap_sq / (2.0 * (1.0 - ab))


def boundary_step(gap_sq: float, alpha_bar: Tensor, threshold: float) -> int:
    """The smallest 1-based step t with KL_t <= threshold (T when none)."""
    kl = kl_per_step(gap_sq, alpha_bar)
    below = torch.nonzero(kl <= threshold)
    return int(below[0]) + 1 if below.numel() else int(kl.numel())


def mean_gap(pairs: Sequence[tuple[Tensor, Tensor]]) -> float:
    """Mean squared difference over all elements of (ground truth, auxiliary) pairs."""
    total = sum(float((a - b).double().pow(2).sum()) for a, b in pairs)
    count = sum(a.numel() for a, _ in pairs)
    return total / max(1, count)


@torch.no_grad()
def find_boundary(model: Any, clips: Sequence[Any], accuracy: float = ACCURACY) -> dict[str, Any]:
    """k for `model` on validation clips (`vaudio.acoustic.dataset.SongClip`), with how it was found."""
    from vaudio.acoustic.dataset import ClipDataset, collate
    from vaudio.acoustic.model import to_model_scale

    dataset = ClipDataset(list(clips), model.phone_set, model.config.voices)
    pairs = []
    for i in range(len(dataset)):
        batch = collate([dataset[i]])
        cond, pad = model.encode(batch["phones"], batch["ph_frames"], batch["midi"], batch["voice"])
        pairs.append((to_model_scale(batch["mel"][0]), model.aux(cond, pad)[0]))
    gap = mean_gap(pairs)
    threshold = threshold_for_accuracy(accuracy)
    alpha_bar = model.schedule().alphas_cumprod
    k = boundary_step(gap, alpha_bar, threshold)
    return {
        "k": k,
        "method": "closed-form KL between q(x_t | gt) and q(x_t | aux), per element",
        "accuracy": accuracy,
        "threshold_nats": round(threshold, 6),
        "mean_sq_gap": round(gap, 6),
        "rms_gap": round(math.sqrt(gap), 6),
        "phrases": len(pairs),
    }
