"""Log-mel features shared by the vocoder and the acoustic model."""
