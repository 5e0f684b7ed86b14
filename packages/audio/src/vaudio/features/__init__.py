"""Audio features: log-mel (`mel`, shared by the vocoder and the acoustic model), STFT (`stft`), WORLD F0 and
spectral envelope (`world`, for the pitch and mel-cepstral metrics)."""
