"""The DiffWave vocoder: mel spectrogram -> waveform by Gaussian diffusion (Kong et al. 2021)."""
