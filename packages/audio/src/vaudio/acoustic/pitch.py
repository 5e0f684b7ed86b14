r"""Durations and F0 for scores that give notes but no ph_dur or f0_seq: a small statistical model fitted
on the training corpus (what DiffSinger's variance models predict; here deliberately simple).

Durations. Phones come in word groups (`ph_num`): a word's first phone starts at its note and the group
ends where the next word's note starts (onset consonants belong to the word before, as in the corpus).
Every phone but the first gets its median duration in the corpus (`phone_seconds`, `default_seconds`
for phones never seen in that position), scaled down so that they take at most 60 % of the group; the
first phone (the vowel, or SP on a rest) gets the rest of the group's notes.

F0 (in MIDI, then Hz). The note step curve (rests take the pitch of the note before, or after at the
start) is smoothed with a Hann window `portamento` seconds wide (the transition between notes), then a
vibrato of `vibrato_cents` amplitude and `vibrato_hz` rate is added inside notes longer than
`vibrato_delay`, faded in over 0.1 s after that delay:

    f0(t) = 440 * 2^((smooth(note)(t) + d(t) sin(2 pi r (t - onset)) / 100 - 69) / 12)

Fitting (`fit_pitch_model`): median durations from the .ds files; `portamento` by grid search
(0-300 ms) for the smallest median |F0 - curve| in cents against the corpus f0_seq; the vibrato from the
residual inside sustained notes: amplitude sqrt(2) x its robust standard deviation (1.4826 MAD), rate
at the peak of its mean power spectrum in 3-9 Hz.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vaudio.score.ds import DsSegment
from vcore.errors import UserError

MAX_CONSONANT_SHARE = 0.6
FADE_SECONDS = 0.1


@dataclass
class PitchModel:
    """Statistics of the score-to-durations/F0 model (stored in the acoustic checkpoint's config)."""

    phone_seconds: dict[str, float] = field(default_factory=dict)
    default_seconds: float = 0.08
    portamento: float = 0.08
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.5
    vibrato_delay: float = 0.25

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PitchModel:
        return cls(**data) if data else cls()


def _note_ends(segment: DsSegment) -> np.ndarray:
    """End time of each note in seconds (note_dur required)."""
    if segment.note_dur is None:
        raise ValueError("the segment has no note_dur")
    return np.cumsum(np.asarray(segment.note_dur, dtype=np.float64))


def word_groups(segment: DsSegment, where: str) -> list[tuple[list[int], float, float]]:
    """Per word: (phone indices, start seconds, seconds) from ph_num and the notes (slurs join a word)."""
    if segment.note_seq is None or segment.note_dur is None:
        raise UserError(f"{where}: note_seq and note_dur are needed to place phones without ph_dur")
    if segment.ph_num is None:
        raise UserError(f"{where}: ph_num is needed to place phones without ph_dur")
    slur = segment.note_slur or [0] * len(segment.note_seq)
    spans: list[list[float]] = []
    start = 0.0
    for seconds, s in zip(segment.note_dur, slur, strict=True):
        if s and spans:
            spans[-1][1] += seconds
        else:
            spans.append([start, seconds])
        start += seconds
    if len(spans) != len(segment.ph_num):
        raise UserError(f"{where}: ph_num has {len(segment.ph_num)} words but the notes make {len(spans)}")
    groups = []
    first = 0
    for (begin, seconds), count in zip(spans, segment.ph_num, strict=True):
        groups.append((list(range(first, first + count)), begin, seconds))
        first += count
    return groups


def place_phones(segment: DsSegment, model: PitchModel, where: str = "score") -> list[float]:
    """ph_dur for a segment without one (see the module docstring)."""
    durations = [0.0] * len(segment.ph_seq)
    for index, _, seconds in word_groups(segment, where):
        rest = [model.phone_seconds.get(segment.ph_seq[i], model.default_seconds) for i in index[1:]]
        scale = min(1.0, MAX_CONSONANT_SHARE * seconds / sum(rest)) if rest else 1.0
        for i, d in zip(index[1:], rest, strict=True):
            durations[i] = d * scale
        durations[index[0]] = seconds - sum(d * scale for d in rest)
    return durations


def note_steps(segment: DsSegment, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(MIDI of the note at each time, rests filled from neighbours; onset of that note in seconds)."""
    midi = np.array([np.nan if m is None else float(m) for m in segment.note_midi()])
    if np.isnan(midi).all():
        midi = np.full_like(midi, 57.0)
    filled = midi.copy()
    for k in range(len(filled)):  # rests hold the note before (the next one at the start)
        if np.isnan(filled[k]):
            before = filled[:k][~np.isnan(filled[:k])]
            after = midi[k:][~np.isnan(midi[k:])]
            filled[k] = before[-1] if before.size else after[0]
    onsets = segment.note_onsets()
    index = np.searchsorted(_note_ends(segment), times, side="right").clip(max=len(midi) - 1)
    return filled[index], onsets[index]


def smooth(values: np.ndarray, step: float, seconds: float) -> np.ndarray:
    """Hann-window moving average `seconds` wide of a curve sampled every `step` seconds (edges held)."""
    width = round(seconds / step)
    if width < 2:
        return values
    window = np.hanning(width + 2)[1:-1]
    window /= window.sum()
    padded = np.pad(values, (width, width), mode="edge")
    return np.convolve(padded, window, mode="same")[width:-width]


def midi_curve(segment: DsSegment, times: np.ndarray, model: PitchModel, vibrato: bool = True) -> np.ndarray:
    """The F0 curve in fractional MIDI at `times` (uniformly spaced seconds)."""
    steps, onsets = note_steps(segment, times)
    step = float(times[1] - times[0]) if times.size > 1 else 0.01
    curve = smooth(steps, step, model.portamento)
    if vibrato and model.vibrato_cents > 0:
        ends = _note_ends(segment)
        index = np.searchsorted(ends, times, side="right").clip(max=len(ends) - 1)
        into = times - onsets
        left = ends[index] - times
        ramp = np.clip((into - model.vibrato_delay) / FADE_SECONDS, 0.0, 1.0) * np.clip(
            left / FADE_SECONDS, 0.0, 1.0
        )
        rests = np.array([m is None for m in segment.note_midi()])[index]
        curve = curve + np.where(
            rests, 0.0, ramp * model.vibrato_cents / 100.0 * np.sin(2 * np.pi * model.vibrato_hz * into)
        )
    return curve


def f0_curve(segment: DsSegment, times: np.ndarray, model: PitchModel) -> np.ndarray:
    """F0 in Hz at `times`."""
    return 440.0 * 2.0 ** ((midi_curve(segment, times, model) - 69.0) / 12.0)


def _sung_mask(segment: DsSegment, times: np.ndarray) -> np.ndarray:
    midi = segment.note_midi()
    index = np.searchsorted(_note_ends(segment), times, side="right").clip(max=len(midi) - 1)
    return np.array([m is not None for m in midi])[index]


def fit_pitch_model(segments: Sequence[DsSegment], max_segments: int = 120) -> PitchModel:
    """Fit the model's statistics on corpus segments with ph_num, notes and f0_seq (module docstring)."""
    model = PitchModel()
    samples: dict[str, list[float]] = defaultdict(list)
    usable = [s for s in segments if s.ph_num is not None and s.note_seq is not None and s.f0_seq is not None]
    for segment in usable:
        try:
            groups = word_groups(segment, "corpus")
        except UserError:
            continue
        for index, _, _ in groups:
            for i in index[1:]:
                samples[segment.ph_seq[i]].append(segment.ph_dur[i])
    model.phone_seconds = {p: round(float(np.median(v)), 4) for p, v in sorted(samples.items())}
    if samples:
        model.default_seconds = round(float(np.median([d for v in samples.values() for d in v])), 4)
    usable = usable[:max_segments]
    if not usable:
        return model
    curves = []
    for s in usable:
        assert s.f0_seq is not None
        assert s.f0_timestep is not None
        times = np.arange(s.f0_seq.size) * s.f0_timestep
        target = 69.0 + 12.0 * np.log2(np.maximum(s.f0_seq, 1.0) / 440.0)
        curves.append((s, times, target, _sung_mask(s, times)))
    best = (np.inf, model.portamento)
    for seconds in np.arange(0.0, 0.301, 0.02):
        model.portamento = float(seconds)
        errors = np.concatenate([np.abs(midi_curve(s, t, model, False) - y)[m] for s, t, y, m in curves])
        best = min(best, (float(np.median(errors)), float(seconds)))
    model.portamento = round(best[1], 3)
    residuals, spectra = [], []
    for s, times, target, mask in curves:
        residual = (target - midi_curve(s, times, model, False)) * 100.0
        into = times - note_steps(s, times)[1]
        left = (
            _note_ends(s)[
                np.searchsorted(_note_ends(s), times, side="right").clip(max=len(_note_ends(s)) - 1)
            ]
            - times
        )
        keep = mask & (into > model.vibrato_delay) & (left > FADE_SECONDS)
        residuals.append(residual[keep])
        window = residual * keep
        if keep.sum() > 64:
            spectra.append(np.abs(np.fft.rfft(window - window[keep].mean() * keep, n=2048)) ** 2)
    values = np.concatenate(residuals) if residuals else np.zeros(0)
    if values.size > 100:
        mad = float(np.median(np.abs(values - np.median(values))))
        model.vibrato_cents = round(float(min(100.0, np.sqrt(2.0) * 1.4826 * mad)), 2)
    if spectra:
        step = usable[0].f0_timestep or 0.005
        freqs = np.fft.rfftfreq(2048, step)
        power = np.mean(spectra, axis=0)
        band = (freqs >= 3.0) & (freqs <= 9.0)
        model.vibrato_hz = round(float(freqs[band][np.argmax(power[band])]), 2)
    return model
