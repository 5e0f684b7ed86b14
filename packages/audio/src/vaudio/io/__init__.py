"""Audio files in and out (soundfile), resampled and down-mixed on load."""
