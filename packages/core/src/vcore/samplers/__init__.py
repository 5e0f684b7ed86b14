"""Samplers: diffusion samplers on a shared `TimeGrid` (DDPM, DDIM, shallow diffusion, probability-flow
ODE with Euler and Heun), k-diffusion style flat functions sharing one signature.
"""

from vcore.samplers.ddim import sample_ddim
from vcore.samplers.ddpm import sample_ddpm
from vcore.samplers.grid import TimeGrid, prediction_coefficients
from vcore.samplers.ode import sample_euler, sample_heun
from vcore.samplers.shallow import sample_shallow

# Discrete-set samplers (vcore.samplers.priority, vcore.samplers.importance): exports added by the lead.

__all__ = [
    "TimeGrid",
    "prediction_coefficients",
    "sample_ddim",
    "sample_ddpm",
    "sample_euler",
    "sample_heun",
    "sample_shallow",
]
