"""DiffSinger acoustic model (Liu et al. 2022): phones + durations + F0 -> mel, with shallow diffusion."""
