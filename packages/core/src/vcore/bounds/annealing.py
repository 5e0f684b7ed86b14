r"""Schedules for the Rényi order alpha over training steps, as used to anneal alpha when training with the
VOD objective (Liévin et al. 2023, "Variational Open-Domain Question Answering"): small alpha gives a
tighter, IWAE-like bound, alpha -> 1 the ELBO (Li & Turner 2016, "Rényi Divergence Variational Inference").

Each schedule is a pure function of the step t, clamped to [0, num_steps], with a(0) = alpha_start and
a(num_steps) = alpha_end exactly. With progress u = t / num_steps:

    linear       a = alpha_start + (alpha_end - alpha_start) u
    cosine       a = alpha_end + (alpha_start - alpha_end) (1 + cos(pi u)) / 2
    exponential  a = alpha_end + (alpha_start - alpha_end) (exp(-rate u) - exp(-rate)) / (1 - exp(-rate))

All three are monotone from alpha_start to alpha_end; the exponential one moves fast early (rate > 0).
"""

from __future__ import annotations

import math


def _progress(step: int, num_steps: int) -> float:
    if num_steps <= 0:
        return 1.0
    return min(max(step, 0), num_steps) / num_steps


def linear_alpha(step: int, num_steps: int, alpha_start: float, alpha_end: float) -> float:
    """alpha moving linearly from `alpha_start` (step 0) to `alpha_end` (step `num_steps` and after)."""
    u = _progress(step, num_steps)
    if u == 1.0:
        return alpha_end
    return alpha_start + (alpha_end - alpha_start) * u


def cosine_alpha(step: int, num_steps: int, alpha_start: float, alpha_end: float) -> float:
    """alpha following half a cosine from `alpha_start` to `alpha_end` (flat at both ends)."""
    u = _progress(step, num_steps)
    if u == 1.0:
        return alpha_end
    return alpha_end + (alpha_start - alpha_end) * 0.5 * (1.0 + math.cos(math.pi * u))


def exponential_alpha(
    step: int, num_steps: int, alpha_start: float, alpha_end: float, rate: float = 5.0
) -> float:
    """alpha decaying exponentially (rate `rate` > 0 per schedule length) from `alpha_start` to `alpha_end`."""
    if rate <= 0.0:
        raise ValueError(f"exponential_alpha needs rate > 0, got {rate}")
    u = _progress(step, num_steps)
    if u == 1.0:
        return alpha_end
    frac = (math.exp(-rate * u) - math.exp(-rate)) / -math.expm1(-rate)
    return alpha_end + (alpha_start - alpha_end) * frac
