"""Note names, MIDI numbers and frequencies in scientific pitch notation (C4 = MIDI 60, A4 = 440 Hz).

    f(m) = 440 * 2^((m - 69) / 12),      cents(f, g) = 1200 log2(f / g)

Names are a letter, an optional accidental (`#`, `b`, `##`, `bb`) and an octave that starts at C, so
B#3 = C4 = 60 and Cb4 = B3 = 59. DiffSinger's .ds files write notes this way ("C#4", "rest"), sometimes
with an enharmonic alternative after a slash ("C#4/Db4"), which `name_to_midi` accepts.
"""

from __future__ import annotations

import re

import numpy as np

SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LETTER_OFFSETS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2}
_NAME = re.compile(r"^([A-Ga-g])(##|#|bb|b|)(-?\d+)$")


def midi_to_name(midi: int) -> str:
    """Scientific-pitch name of a MIDI note with sharps: 60 -> "C4", 61 -> "C#4", 45 -> "A2"."""
    return f"{SHARP_NAMES[midi % 12]}{midi // 12 - 1}"


def name_to_midi(name: str) -> int:
    """MIDI number of a note name ("C4" -> 60, "Db4" -> 61, "C#4/Db4" -> 61); ValueError if malformed."""
    match = _NAME.match(name.split("/")[0].strip())
    if match is None:
        raise ValueError(f"not a note name: {name!r}")
    letter, accidental, octave = match.groups()
    return 12 * (int(octave) + 1) + _LETTER_OFFSETS[letter.upper()] + _ACCIDENTALS[accidental]


def midi_to_hz(midi: float | np.ndarray) -> np.ndarray:
    """Equal-tempered frequency in Hz (an array, 0-d for a number), A4 = MIDI 69 = 440 Hz."""
    return np.asarray(440.0 * np.power(2.0, (np.asarray(midi, dtype=np.float64) - 69.0) / 12.0))


def cents(f: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """1200 log2(f / ref) elementwise (both positive)."""
    return 1200.0 * np.log2(np.asarray(f, dtype=np.float64) / np.asarray(ref, dtype=np.float64))
