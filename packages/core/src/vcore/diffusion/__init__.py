"""Gaussian diffusion maths shared by the diffusion bounds and the samplers."""
