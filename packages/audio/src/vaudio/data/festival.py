"""Sing a phrase with Festival's singing mode and read back the phone timings it used.

Festival 2.5 (Debian `festival`) ships singing mode (`/usr/share/festival/singing-mode.scm`, Dominic
Mazzoni 2001, slurs by Milan Zamazal 2006) and its DTD (`/usr/share/sgml/festival/Singing.v0_1.dtd`):

    <SINGING BPM="80">
    <DURATION BEATS="1.0"><PITCH NOTE="F4">love</PITCH></DURATION>
    <REST BEATS="0.5"></REST> ...
    </SINGING>

rendered by `text2wave -mode singing song.xml -o out.wav` with one of the diphone voices
`voice_kal_diphone` / `voice_ked_diphone` (festvox-kallpc16k, festvox-kdlpc16k; 16 kHz, male).

Two quirks are corrected here, both measured (tests/test_data_songs.py):

- pitch: `note->freq` computes MIDI = 12 * octave + offset, so Festival's "A5" is MIDI 69 = 440 Hz, one
  octave above scientific pitch (its "A4" sounds at 220 Hz). `festival_note_name(m)` writes MIDI m with
  Festival's octave (standard octave + 1), always with sharps (its table maps "Cb" to the B above).
- tempo: the SINGING element sets `singing_bps = BPM / 50` ("change this back to 60"), so a beat lasts
  50 / BPM seconds. `festival_bpm(bpm)` passes BPM * 50 / 60, which makes a beat last 60 / bpm seconds.

A third is avoided rather than corrected: `singing_do_syllable` starts a syllable early by its onset
consonant's offset (up to 0.1 s, taken from the syllable before) only when the offset is under half the
syllable's note, and otherwise every later note starts late by the offset; notes of at least 0.21 s
(`vaudio.data.song_plan.MIN_NOTE_SECONDS`) keep the total time exact.

The phone timings come from a `tts_hooks` function added with `-eval` after text2wave's own hook: for
each Segment it writes the phone name, its end time, the index of its syllable (0 for pauses) and
whether it is a vowel (the phone set's `ph_vc`), which is what `utt.save.segs` writes plus the syllable.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaudio.score.pitch import SHARP_NAMES
from vcore.errors import UserError

SAMPLE_RATE = 16000
VOICES = {"kal": "voice_kal_diphone", "ked": "voice_ked_diphone"}
VOICE_PACKAGES = {"kal": "festvox-kallpc16k", "ked": "festvox-kdlpc16k"}
FESTIVAL_OCTAVE_SHIFT = 1
"""Festival's octave number minus the scientific one (its A5 is 440 Hz)."""
FESTIVAL_BEAT_DIVISOR = 50.0
"""Festival divides BPM by this (not 60) to get beats per second."""
SILENCE_PHONES = frozenset({"pau", "h#", "sil"})
TIMEOUT_S = 300

_HOOK = """(begin
 (define (vaudio_save_segs utt)
  (let ((fd (fopen "{path}" "a")) (syl 0))
   (mapcar (lambda (s)
             (set! syl (+ syl 1))
             (mapcar (lambda (seg) (item.set_feat seg "vaudio_syl" syl))
                     (item.leafs (item.relation s 'SylStructure))))
           (utt.relation.items utt 'Syllable))
   (format fd "utterance\\n")
   (mapcar (lambda (seg)
             (format fd "%s %f %s %s\\n" (item.name seg) (item.feat seg "end")
                     (item.feat seg "vaudio_syl") (item.feat seg "ph_vc")))
           (utt.relation.items utt 'Segment))
   (fclose fd))
  utt)
 (set! tts_hooks (append tts_hooks (list vaudio_save_segs))))"""


class RenderError(RuntimeError):
    """Festival failed on one phrase, or sang something other than the score asked for."""


@dataclass(frozen=True)
class Segment:
    """One phone Festival synthesised: name, start and end in seconds, syllable (1-based, 0 = pause)."""

    name: str
    start: float
    end: float
    syllable: int
    vowel: bool

    @property
    def silence(self) -> bool:
        return self.name in SILENCE_PHONES


def festival_note_name(midi: int) -> str:
    """Festival's name of MIDI note `midi`: scientific name with the octave + 1 (MIDI 69 -> "A5")."""
    return f"{SHARP_NAMES[midi % 12]}{midi // 12 - 1 + FESTIVAL_OCTAVE_SHIFT}"


def festival_bpm(bpm: float) -> float:
    """The BPM attribute that makes Festival's beat last 60 / bpm seconds."""
    return bpm * FESTIVAL_BEAT_DIVISOR / 60.0


def singing_xml(notes: Sequence[tuple[int | None, float]], words: Sequence[str], bpm: float) -> str:
    """Singing-mode XML of (MIDI or None for a rest, beats) events, one word per note, at `bpm` (corrected)."""
    sung = sum(1 for midi, _ in notes if midi is not None)
    if sung != len(words):
        raise ValueError(f"{sung} notes but {len(words)} words")
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" "Singing.v0_1.dtd" []>',
        f'<SINGING BPM="{festival_bpm(bpm):.6f}">',
    ]
    word = iter(words)
    for k, (midi, beats) in enumerate(notes):
        if midi is None:
            if k > 0 and notes[k - 1][0] is None:
                raise ValueError("consecutive rests: Festival keeps only the last one; merge them")
            lines.append(f'<REST BEATS="{beats:.6f}"></REST>')
        else:
            lines.append(
                f'<DURATION BEATS="{beats:.6f}"><PITCH NOTE="{festival_note_name(midi)}">{next(word)}</PITCH></DURATION>'
            )
    lines.append("</SINGING>")
    return "\n".join(lines) + "\n"


def check_festival(voices: Sequence[str]) -> None:
    """UserError unless text2wave is installed and each voice is known and sings one note."""
    if shutil.which("text2wave") is None or shutil.which("festival") is None:
        raise UserError("festival is not installed (text2wave not found): apt install festival")
    for voice in voices:
        if voice not in VOICES:
            raise UserError(f"unknown Festival voice {voice!r}; choose from {', '.join(VOICES)}")
        try:
            render(singing_xml([(None, 0.25), (57, 1.0)], ["la"], 120.0), voice)
        except RenderError as err:
            raise UserError(
                f"Festival voice {voice} does not work ({err}); apt install {VOICE_PACKAGES[voice]}"
            ) from None


def render(xml: str, voice: str, timeout: float = TIMEOUT_S) -> tuple[np.ndarray, list[Segment]]:
    """(float32 samples at 16 kHz, phone segments) of singing-mode `xml` sung by `voice` ("kal"/"ked")."""
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="vaudio-festival-") as tmp:
        folder = Path(tmp)
        (folder / "song.xml").write_text(xml, encoding="utf-8")
        command = [
            "text2wave", "-mode", "singing", "-F", str(SAMPLE_RATE),
            "-eval", f"({VOICES[voice]})", "-eval", _HOOK.format(path=folder / "song.segs"),
            str(folder / "song.xml"), "-o", str(folder / "song.wav"),
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"text2wave ran longer than {timeout:.0f} s") from None
        errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
        if done.returncode != 0 or errors or not (folder / "song.segs").is_file():
            detail = (errors or done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
            raise RenderError(f"text2wave failed: {detail.strip()}")
        samples, rate = sf.read(str(folder / "song.wav"), dtype="float32")
        segments = parse_segments((folder / "song.segs").read_text())
    if rate != SAMPLE_RATE or samples.ndim != 1 or samples.size == 0:
        raise RenderError(f"text2wave wrote {samples.shape} samples at {rate} Hz, not mono {SAMPLE_RATE} Hz")
    return samples, segments


def parse_segments(text: str) -> list[Segment]:
    """Segments from the hook's output; RenderError unless Festival made exactly one utterance."""
    lines = text.splitlines()
    if lines.count("utterance") != 1 or lines[0] != "utterance":
        raise RenderError(f"Festival split the phrase into {lines.count('utterance')} utterances")
    segments = []
    start = 0.0
    for line in lines[1:]:
        name, end, syllable, vc = line.split()
        segments.append(Segment(name, start, float(end), int(syllable), vc == "+"))
        start = float(end)
    return segments


def clean_segments(segments: Sequence[Segment], min_seconds: float = 1e-3) -> list[Segment]:
    """Merge adjacent pauses, then drop pauses shorter than `min_seconds`: Festival's zero-length pauses at
    phrase breaks and its 10-us pause between a vowel and a rest's pause. A dropped pause's time goes to
    the phone before it (to the next one at the start), so the phones still tile the wav."""
    merged: list[Segment] = []
    for seg in segments:
        if seg.end - seg.start < -1e-9:
            raise RenderError(
                f"phone {seg.name} ends at {seg.end:.4f} s, before it starts ({seg.start:.4f} s)"
            )
        if merged and seg.silence and merged[-1].silence:
            merged[-1] = Segment(merged[-1].name, merged[-1].start, seg.end, 0, False)
        else:
            merged.append(seg)
    out: list[Segment] = []
    for seg in merged:
        if seg.silence and seg.end - seg.start < min_seconds:
            if out:
                out[-1] = Segment(out[-1].name, out[-1].start, seg.end, out[-1].syllable, out[-1].vowel)
            continue
        if not out and seg.start > 0:  # the time of dropped leading pauses
            seg = Segment(seg.name, 0.0, seg.end, seg.syllable, seg.vowel)
        out.append(seg)
    short = [s.name for s in out if s.end - s.start < min_seconds]
    if short:
        raise RenderError(f"phones shorter than {min_seconds * 1000:.0f} ms: {', '.join(short)}")
    return out
