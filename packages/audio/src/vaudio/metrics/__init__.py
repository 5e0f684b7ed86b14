"""Quality metrics of generated audio against a reference recording, one metric per module.

`pesq_wb` (PESQ wideband), `stoi`, `mcd` (mel-cepstral distortion, DTW-aligned by `dtw`), `lsd`
(log-spectral distance), `mrstft` (multi-resolution STFT distance), `f0` (F0 RMSE in cents and V/UV error);
`signals` checks and trims a (reference, generated) pair; `evaluate.evaluate_pair` computes all of them.
"""
