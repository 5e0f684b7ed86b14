"""`vaudio data speech`: espeak-ng sentences in several voices at 16 kHz, extra material for the vocoder.

    DIR/wavs/<id>.wav    mono 16-bit PCM, 16 kHz (espeak-ng's 22,050 Hz resampled)
    DIR/text/<id>.txt    the sentence
    DIR/manifest.json    written last: settings, per-split totals, one entry per item
                         (id, split, voice, speed, pitch, text, wav, duration)

Sentence k (`vaudio.data.sentences.sentence(seed, k)`) is spoken once, by a voice, speed (words per
minute) and pitch drawn with a generator seeded by (seed, k) from `vaudio.data.espeak.VOICES`,
SPEED_WPM and PITCH; its id is `speech-<k>-<voice>`. Sentences go to splits by index like the songs'
melodies (`vaudio.data.corpus.split_for`: k % 20 == 3 val, 13 test, else train). Files are written
atomically, the transcript after the wav; a re-run keeps items whose transcript matches.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaudio.data.corpus import map_with_progress, prepare_out_dir, split_for, split_totals
from vaudio.data.espeak import (
    PITCH,
    SAMPLE_RATE,
    SPEED_WPM,
    VOICES,
    SpeakError,
    check_espeak,
    espeak_version,
    speak,
)
from vaudio.data.sentences import sentence
from vcore.errors import UserError

logger = logging.getLogger(__name__)

DEFAULT_SENTENCES = 330
"""About 18 minutes of speech (3.2 s a sentence on average)."""


@dataclass(frozen=True)
class SpeechItem:
    index: int
    text: str
    voice: str
    speed: int
    pitch: int
    split: str

    @property
    def id(self) -> str:
        return f"speech-{self.index:05d}-{re.sub(r'[^a-z0-9]+', '-', self.voice.lower()).strip('-')}"


def plan_speech(seed: int, sentences: int) -> list[SpeechItem]:
    """The items of the speech corpus (deterministic in `seed`)."""
    items = []
    for k in range(sentences):
        rng = np.random.default_rng([seed, k, 0x7370])
        voice = VOICES[int(rng.integers(len(VOICES)))]
        speed = int(rng.integers(SPEED_WPM[0], SPEED_WPM[1] + 1))
        pitch = int(rng.integers(PITCH[0], PITCH[1] + 1))
        items.append(SpeechItem(k, sentence(seed, k), voice, speed, pitch, split_for(k)))
    return items


def _entry(item: SpeechItem, duration: float) -> dict[str, Any]:
    return {
        "id": item.id,
        "split": item.split,
        "voice": item.voice,
        "speed_wpm": item.speed,
        "pitch": item.pitch,
        "text": item.text,
        "wav": f"wavs/{item.id}.wav",
        "text_file": f"text/{item.id}.txt",
        "duration": round(duration, 4),
    }


def speak_item(task: tuple[SpeechItem, Path]) -> dict[str, Any]:
    """Speak one item into DIR (or find it there); returns its manifest entry, or {"id", "error"}."""
    import soundfile as sf

    from vaudio.io.audio import save_audio
    from vcore.io.atomic import atomic_write_text

    item, out = task
    wav, txt = out / "wavs" / f"{item.id}.wav", out / "text" / f"{item.id}.txt"
    if wav.is_file() and txt.is_file() and txt.read_text(encoding="utf-8").strip() == item.text:
        try:
            return _entry(item, sf.info(str(wav)).duration)
        except (sf.LibsndfileError, RuntimeError):
            logger.warning("%s: unreadable wav; speaking it again", item.id)
    try:
        samples = speak(item.text, item.voice, item.speed, item.pitch)
    except SpeakError as err:
        logger.warning("%s: %s", item.id, err)
        return {"id": item.id, "error": str(err)}
    save_audio(wav, samples, SAMPLE_RATE)
    atomic_write_text(txt, item.text + "\n")
    return _entry(item, samples.size / SAMPLE_RATE)


def build_speech(
    out: Path, sentences: int = DEFAULT_SENTENCES, seed: int = 0, jobs: int = 1, quiet: bool = False
) -> dict[str, Any]:
    """Speak the corpus into `out` (resuming), write DIR/manifest.json last and return the manifest
    (plus a "run" entry with timings, not written)."""
    import vaudio

    if sentences < 1:
        raise UserError(f"--sentences must be at least 1, got {sentences}")
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    check_espeak()
    out = prepare_out_dir(out)
    start = time.perf_counter()
    items = plan_speech(seed, sentences)
    results = map_with_progress(speak_item, [(it, out) for it in items], jobs, "speaking", quiet)
    entries = [r for r in results if "error" not in r]
    failed = [r for r in results if "error" in r]
    if not entries:
        raise UserError(f"espeak-ng failed on every sentence (first: {failed[0]['error']})")
    manifest: dict[str, Any] = {
        "dataset": "vaudio-speech",
        "description": "Template sentences spoken by espeak-ng in several voices, resampled to 16 kHz",
        "seed": seed,
        "sentences": sentences,
        "hours": round(sum(e["duration"] for e in entries) / 3600.0, 4),
        "sample_rate": SAMPLE_RATE,
        "voices": list(VOICES),
        "speed_wpm": list(SPEED_WPM),
        "pitch": list(PITCH),
        "split": "by sentence index: k % 20 == 3 val, k % 20 == 13 test, else train",
        "splits": split_totals(entries, "voice", "voices"),
        "failed": failed,
        "items": entries,
        "versions": {"vaudio": vaudio.__version__, "espeak-ng": espeak_version()},
    }
    from vcore.io.atomic import atomic_write_json

    atomic_write_json(out / "manifest.json", manifest)
    manifest["run"] = {"wall_seconds": round(time.perf_counter() - start, 1)}
    return manifest
