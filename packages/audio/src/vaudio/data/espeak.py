"""Speak a sentence with espeak-ng (Debian `espeak-ng`) and return it at 16 kHz.

espeak-ng's formant synthesiser writes 22,050 Hz mono WAV (`espeak-ng -v VOICE -s WPM -p PITCH -w out.wav
TEXT`); the samples are resampled to 16 kHz with torchaudio's windowed-sinc resampler
(`vaudio.io.audio.resample`). VOICES mixes accents (American, British, Scottish, Received Pronunciation,
Caribbean, New York) with espeak-ng's voice variants (`+m3`, `+f2`, ...: different formant scales, pitch
ranges and breathiness), male and female, for a vocoder to hear varied voices.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from vcore.errors import UserError

VOICES = (
    "en-us", "en-gb", "en-us+m3", "en-gb+f2", "en-us+f3", "en-gb-scotland+m1",
    "en-029+f4", "en-us-nyc+m7", "en-gb-x-rp+f1", "en-us+klatt", "en-gb+m4", "en-us+f5",
)  # fmt: skip
SPEED_WPM = (140, 185)
PITCH = (30, 70)
ESPEAK_RATE = 22050
SAMPLE_RATE = 16000
TIMEOUT_S = 60


class SpeakError(RuntimeError):
    """espeak-ng failed on one sentence."""


def check_espeak() -> None:
    """UserError unless espeak-ng is installed and speaks."""
    if shutil.which("espeak-ng") is None:
        raise UserError("espeak-ng is not installed: apt install espeak-ng")
    try:
        speak("Test.", VOICES[0], 160, 50)
    except SpeakError as err:
        raise UserError(f"espeak-ng does not work ({err})") from None


def espeak_version() -> str:
    """`espeak-ng --version`'s line, or "unknown"."""
    try:
        done = subprocess.run(
            ["espeak-ng", "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def speak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """float32 samples at 16 kHz of `text` spoken by espeak-ng `voice` at `speed` words/min and `pitch` (0-99)."""
    import soundfile as sf

    from vaudio.io.audio import resample

    with tempfile.TemporaryDirectory(prefix="vaudio-espeak-") as tmp:
        wav = Path(tmp) / "speech.wav"
        command = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), "--", text]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise SpeakError(f"espeak-ng ran longer than {TIMEOUT_S} s") from None
        if done.returncode != 0 or not wav.is_file():
            raise SpeakError(f"espeak-ng failed: {done.stderr.strip() or f'exit code {done.returncode}'}")
        samples, rate = sf.read(str(wav), dtype="float32")
    if samples.ndim != 1 or samples.size == 0:
        raise SpeakError(f"espeak-ng wrote {samples.shape} samples")
    return resample(samples, int(rate), SAMPLE_RATE)
