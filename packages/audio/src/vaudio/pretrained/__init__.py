"""Checkpoints shipped with the package, when they ship: `pretrained/vocoder/` (DiffWave) and
`pretrained/acoustic/` (the DiffSinger acoustic model)."""

from __future__ import annotations

from pathlib import Path

VOCODER_DIR = Path(__file__).resolve().parent / "vocoder"
ACOUSTIC_DIR = Path(__file__).resolve().parent / "acoustic"
HELDOUT_NAME = "heldout.json"  # the shipped vocoder's held-out scores beside Griffin-Lim's
