"""Turn a Festival rendering of a phrase into a DiffSinger .ds segment, and measure how well it sings.

Phones: Festival's segments (`vaudio.data.festival`) after dropping its zero-length pauses, "pau" written
as "SP". The rendering must match the score: one syllable per sung note, in order, and one pause per rest,
right after the syllable before it; anything else raises `RenderError`. A phone outside the syllable
structure (ked's post-lexical rules add an "r" after "er") joins the syllable of the phone before it.

Words and notes follow DiffSinger's convention (see `vaudio.score.ds`): a note starts where its syllable's
vowel starts (a rest where its pause starts), so a word's phones are its vowel, its coda and the onset
consonants of the next syllable, and

    note_dur[k] = onset[k + 1] - onset[k],    sum(note_dur) = sum(ph_dur) = length of the wav.

Festival moves a syllable's start earlier by its onset consonant (`singing_adjcons_syllable`), so these
onsets lie from about 0.1 s before to 0.3 s after the score's; the score's total length is kept to
MAX_DRIFT_SECONDS (checked).

F0: WORLD's Harvest every F0_TIMESTEP = 5 ms (`vaudio.features.world`). In f0_seq, unvoiced frames are
filled by linear interpolation of log F0 between the neighbouring voiced frames and held constant before
the first and after the last one (as DiffSinger's preprocessing does), so f0_seq has no zeros.
`note_cents_error` compares the raw Harvest F0 of the voiced frames inside notes with the note's
equal-tempered frequency: |1200 log2(f0 / f_note)|.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from vaudio.data.festival import RenderError, Segment
from vaudio.data.song_plan import SongItem
from vaudio.score.ds import REST, SILENCE, DsSegment
from vaudio.score.pitch import midi_to_hz, name_to_midi

F0_TIMESTEP = 0.005
MAX_DRIFT_SECONDS = 0.001
"""Largest allowed difference between Festival's total phone time and the score's length (measured:
under 1 us on 579 phrases, so any larger difference means a note was mis-timed)."""


def word_onsets(segments: Sequence[Segment], item: SongItem) -> list[float]:
    """Start time of each note and rest of `item.phrase` in the rendering; RenderError if they disagree."""
    notes = item.phrase.notes
    n_sung = item.phrase.n_sung
    syllables: dict[int, list[int]] = {}
    for k, syllable in enumerate(_syllables(segments)):
        if syllable:
            syllables.setdefault(syllable, []).append(k)
    if sorted(syllables) != list(range(1, n_sung + 1)):
        raise RenderError(f"Festival sang {len(syllables)} syllables for {n_sung} notes ({item.text})")
    for j, ks in syllables.items():
        if ks != list(range(ks[0], ks[-1] + 1)) or (j > 1 and ks[0] < syllables[j - 1][-1]):
            raise RenderError(f"the phones of syllable {j} are not contiguous and in order")
    pauses = sum(1 for s in segments if s.silence)
    rests = sum(1 for n in notes if n.midi is None)
    if pauses != rests:
        raise RenderError(f"Festival made {pauses} pauses for {rests} rests ({item.text})")
    onsets: list[float] = []
    sung = 0
    for note in notes:
        if note.midi is None:
            k = syllables[sung][-1] + 1 if sung else 0
            if k >= len(segments) or not segments[k].silence:
                raise RenderError(f"no pause where rest {len(onsets)} should start")
            onsets.append(segments[k].start)
        else:
            sung += 1
            ks = syllables[sung]
            vowel = next((k for k in ks if segments[k].vowel), ks[0])
            onsets.append(segments[vowel].start)
    if any(b <= a for a, b in itertools.pairwise(onsets)):
        raise RenderError("note onsets are not increasing")
    return onsets


def _syllables(segments: Sequence[Segment]) -> list[int]:
    """Syllable of each segment (0 for pauses). A phone that a voice's post-lexical rules add outside the
    syllable structure (ked's "r" after "er") belongs to the syllable of the phone before it."""
    out: list[int] = []
    for k, seg in enumerate(segments):
        if seg.silence:
            out.append(0)
        elif seg.syllable:
            out.append(seg.syllable)
        elif k > 0 and out[-1]:
            out.append(out[-1])
        else:
            raise RenderError(f"phone {seg.name} at {seg.start:.3f} s belongs to no syllable")
    return out


def interpolate_unvoiced(f0: np.ndarray) -> np.ndarray:
    """F0 with unvoiced (0) frames filled by log-linear interpolation, ends held; RenderError if all are 0."""
    voiced = f0 > 0
    if not voiced.any():
        raise RenderError("no voiced frame")
    frames = np.arange(f0.size)
    return np.exp(np.interp(frames, frames[voiced], np.log(f0[voiced])))


def build_segment(
    segments: Sequence[Segment], item: SongItem, f0: np.ndarray, timestep: float = F0_TIMESTEP
) -> DsSegment:
    """The .ds segment of a rendering: phones, words, notes and F0 (raw Harvest F0 in, interpolated out)."""
    total = segments[-1].end
    drift = total - item.phrase.duration
    if abs(drift) > MAX_DRIFT_SECONDS:
        raise RenderError(f"Festival's phones last {total:.3f} s but the score {item.phrase.duration:.3f} s")
    onsets = word_onsets(segments, item)
    starts = np.array([s.start for s in segments])
    group = np.searchsorted(np.array(onsets), starts + 1e-9, side="right") - 1
    ph_num = np.bincount(group, minlength=len(onsets))
    if (ph_num == 0).any():
        raise RenderError("a note has no phone")
    note_dur = np.diff(np.append(onsets, total))
    return DsSegment(
        ph_seq=[SILENCE if s.silence else s.name for s in segments],
        ph_dur=[s.end - s.start for s in segments],
        offset=0.0,
        text=item.text,
        ph_num=[int(n) for n in ph_num],
        note_seq=item.note_names,
        note_dur=[float(d) for d in note_dur],
        note_slur=[0] * len(onsets),
        f0_seq=np.round(interpolate_unvoiced(f0), 1),
        f0_timestep=timestep,
    )


def note_cents_error(f0: np.ndarray, segment: DsSegment, timestep: float = F0_TIMESTEP) -> np.ndarray:
    """|cents| between the raw F0 (0 = unvoiced) and the sounding note, for each voiced frame inside a note."""
    assert segment.note_seq is not None
    times = np.arange(f0.size) * timestep
    index = np.searchsorted(segment.note_onsets(), times, side="right") - 1
    midi = np.array([np.nan if n == REST else name_to_midi(n) for n in segment.note_seq])[index]
    keep = (f0 > 0) & np.isfinite(midi) & (times < segment.duration)
    return np.abs(1200.0 * np.log2(f0[keep] / midi_to_hz(midi[keep])))
