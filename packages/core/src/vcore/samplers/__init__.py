"""Samplers: diffusion samplers on a shared `TimeGrid` (DDPM, DDIM, shallow diffusion, probability-flow
ODE with Euler and Heun), k-diffusion style flat functions sharing one signature; and samplers over a
discrete set (priority sampling with top-M truncation, self-normalised importance sampling).
"""

from vcore.samplers.ddim import sample_ddim
from vcore.samplers.ddpm import sample_ddpm
from vcore.samplers.grid import TimeGrid, prediction_coefficients
from vcore.samplers.importance import ImportanceSample, importance_sample
from vcore.samplers.ode import sample_euler, sample_heun
from vcore.samplers.priority import PrioritySample, priority_sample, truncate_top_m
from vcore.samplers.shallow import sample_shallow

__all__ = [
    "ImportanceSample",
    "PrioritySample",
    "TimeGrid",
    "importance_sample",
    "prediction_coefficients",
    "priority_sample",
    "sample_ddim",
    "sample_ddpm",
    "sample_euler",
    "sample_heun",
    "sample_shallow",
    "truncate_top_m",
]
