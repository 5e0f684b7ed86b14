"""Noise schedules: discrete betas (linear, scaled linear, cosine, polynomial), the cosine log-SNR,
DiffWave's fractional inference steps and the learned monotone gamma(t) of VDM.

Schedules are append-only once released: a released name always builds the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from vcore.schedules.cosine import cosine_alpha_bar, cosine_betas, cosine_log_snr
from vcore.schedules.discrete import DiscreteSchedule
from vcore.schedules.fractional import DIFFWAVE_FAST_BETAS, DIFFWAVE_TRAIN_BETAS, fractional_steps
from vcore.schedules.learned import FixedLinearGamma, LearnedGamma
from vcore.schedules.linear import linear_betas, scaled_linear_betas
from vcore.schedules.polynomial import polynomial_alpha_bar, polynomial_betas

SCHEDULES: dict[str, Callable[..., Tensor]] = {
    "linear": linear_betas,
    "scaled_linear": scaled_linear_betas,
    "cosine": cosine_betas,
    "polynomial": polynomial_betas,
}
"""Builders of discrete betas by name; keyword arguments pass through to the builder."""


def make_schedule(name: str, num_steps: int, **kwargs: Any) -> DiscreteSchedule:
    """Build the `DiscreteSchedule` named `name` ("linear", "scaled_linear", "cosine", "polynomial")."""
    try:
        builder = SCHEDULES[name]
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}") from None
    return DiscreteSchedule(builder(num_steps, **kwargs))


__all__ = [
    "DIFFWAVE_FAST_BETAS",
    "DIFFWAVE_TRAIN_BETAS",
    "SCHEDULES",
    "DiscreteSchedule",
    "FixedLinearGamma",
    "LearnedGamma",
    "cosine_alpha_bar",
    "cosine_betas",
    "cosine_log_snr",
    "fractional_steps",
    "linear_betas",
    "make_schedule",
    "polynomial_alpha_bar",
    "polynomial_betas",
    "scaled_linear_betas",
]
