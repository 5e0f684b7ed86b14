"""What the singing corpus sings: melodies fitted to the voices, cut into phrases, with lyrics and splits.

For each melody of `melody_catalog(seed)` in turn (`vaudio.data.melodies`), with a generator seeded by
(seed, melody id) so that a melody's treatment does not depend on its position:

1. Range: transpose by a whole number of semitones, drawn uniformly among the shifts that put every note
   inside VOICE_RANGE = A2..E4 (MIDI 45..64; 110-330 Hz), comfortable for both male diphone voices.
   Melodies spanning more than 19 semitones are skipped.
2. Tempo: quarter note = U(60, 120) BPM, lowered so that the shortest note lasts at least 0.21 s
   (Festival moves a syllable's start earlier by up to 0.1 s for its onset consonant, taking the time
   from the note before, but only when the shift is under half that note: a 0.2 s note before a "g"
   delayed every later note by 0.1 s in 5 of 584 items of a first corpus). Melodies that would need
   less than 45 BPM are skipped. Score tempo marks are ignored.
3. Phrases: cuts are allowed after a note followed by a rest, after a fermata (the chorales' phrase
   ends), at the end, and (weaker) at bar lines. From the first note, the cut whose phrase lasts 5-15 s
   and comes closest to a target drawn from U(7, 12) s is taken, preferring rests and fermatas to bar
   lines; the next phrase starts at the next note. Rests inside a phrase are capped at 1.5 s, rests at its
   ends dropped, and 0.3 s of rest added before and after. A leftover under 5 s is not sung.
4. Lyrics: one word per note, drawn uniformly from the one-syllable vocabulary
   (`vaudio.data.words`) with a generator seeded by (seed, melody, phrase, voice), so each voice sings
   its own words to the same phrase.
5. Split: the melodies of each source (Essen, Bach) are numbered in the order they are accepted; melody k
   of a source goes to val when k % 20 == 3, to test when k % 20 == 13, else to train (90/5/5;
   `vaudio.data.corpus.split_for`), with all its phrases and voices. Counting per source keeps folk songs
   and chorales in every split (a shared count would follow the interleaving's parity).

Phrases are planned until the next one, sung by every voice, would take the total (counting each item
10 ms longer than its score) past `hours`, so a larger `hours` extends a smaller corpus of the same seed
rather than changing it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from vaudio.data.corpus import split_for
from vaudio.data.festival import singing_xml
from vaudio.data.melodies import Melody, MelodyNote, MelodyRef, load_melody, melody_catalog
from vaudio.score.pitch import midi_to_name
from vcore.errors import UserError

VOICE_RANGE = (45, 64)
"""MIDI range of the sung notes: A2 (110 Hz) .. E4 (330 Hz)."""
MAX_SPAN = VOICE_RANGE[1] - VOICE_RANGE[0]
TEMPO_RANGE = (60.0, 120.0)
MIN_TEMPO = 45.0
MIN_NOTE_SECONDS = 0.21
PHRASE_SECONDS = (5.0, 15.0)
TARGET_SECONDS = (7.0, 12.0)
PAD_SECONDS = 0.3
MAX_REST_SECONDS = 1.5
MARGIN_SECONDS = 0.01
"""Counted per item on top of the score's length, for the rounding of the rendered length to samples."""


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


@dataclass(frozen=True)
class PhraseNote:
    """A note (MIDI, after transposition) or rest (None) lasting `beats` quarter notes."""

    midi: int | None
    beats: float


@dataclass(frozen=True)
class Phrase:
    """One sung phrase of a melody: notes at `bpm` quarter notes per minute, transposed by `transpose`."""

    melody: MelodyRef
    title: str
    index: int
    bpm: float
    transpose: int
    notes: tuple[PhraseNote, ...]

    def seconds(self, beats: float) -> float:
        return beats * 60.0 / self.bpm

    @property
    def duration(self) -> float:
        """Seconds the score lasts (rests included)."""
        return self.seconds(sum(n.beats for n in self.notes))

    @property
    def n_sung(self) -> int:
        return sum(1 for n in self.notes if n.midi is not None)


@dataclass(frozen=True)
class SongItem:
    """One wav + .ds pair to render: a phrase sung by a voice with its lyrics."""

    phrase: Phrase
    voice: str
    words: tuple[str, ...]
    split: str

    @cached_property
    def id(self) -> str:
        return f"{self.phrase.melody.slug}-p{self.phrase.index:02d}-{self.voice}"

    @property
    def note_names(self) -> list[str]:
        return [midi_to_name(n.midi) if n.midi is not None else "rest" for n in self.phrase.notes]

    @property
    def text(self) -> str:
        """The words with "SP" for each rest, as the .ds `text` field holds them."""
        word = iter(self.words)
        return " ".join(next(word) if n.midi is not None else "SP" for n in self.phrase.notes)

    def xml(self) -> str:
        """Festival singing-mode XML (quirks corrected, see `vaudio.data.festival`)."""
        return singing_xml([(n.midi, n.beats) for n in self.phrase.notes], self.words, self.phrase.bpm)


def merge_rests(notes: Sequence[MelodyNote]) -> list[MelodyNote]:
    """Adjacent rests joined into one (Festival keeps only the last of two rests in a row)."""
    out: list[MelodyNote] = []
    for n in notes:
        if n.midi is None and out and out[-1].midi is None:
            out[-1] = MelodyNote(None, out[-1].quarters + n.quarters, False, out[-1].bar_start)
        else:
            out.append(n)
    return out


def fit_melody(melody: Melody, rng: np.random.Generator) -> tuple[int, float] | None:
    """(semitone shift into VOICE_RANGE, quarter-note BPM), or None if the melody cannot be sung."""
    pitches = melody.pitches
    low, high = min(pitches), max(pitches)
    if high - low > MAX_SPAN:
        return None
    shifts = np.arange(VOICE_RANGE[0] - low, VOICE_RANGE[1] - high + 1)
    transpose = int(rng.choice(shifts))
    shortest = min(n.quarters for n in melody.notes if n.midi is not None)
    fastest = 60.0 * shortest / MIN_NOTE_SECONDS
    if fastest < MIN_TEMPO:
        return None
    bpm = round(min(float(rng.uniform(*TEMPO_RANGE)), fastest), 2)
    if bpm * MIN_NOTE_SECONDS > 60.0 * shortest:  # rounding up crossed the limit
        bpm = np.floor(fastest * 100) / 100
    return transpose, float(bpm)


def cut_phrases(
    notes: Sequence[MelodyNote], bpm: float, rng: np.random.Generator
) -> list[tuple[PhraseNote, ...]]:
    """Phrases (padded with PAD_SECONDS of rest) of `notes` at `bpm`; see step 3 of the module docstring."""
    events = merge_rests(notes)
    n = len(events)
    beats_per_second = bpm / 60.0
    max_rest = MAX_REST_SECONDS * beats_per_second
    pad = PAD_SECONDS * beats_per_second

    def quality(i: int) -> int:  # 2: rest, fermata or end; 1: bar line; 0: no cut
        if i == n - 1 or events[i + 1].midi is None or (events[i].fermata and events[i].midi is not None):
            return 2
        return 1 if events[i + 1].bar_start else 0

    def next_note(i: int) -> int | None:
        return next((j for j in range(i, n) if events[j].midi is not None), None)

    phrases = []
    start = next_note(0)
    while start is not None:
        target = float(rng.uniform(*TARGET_SECONDS))
        beats = 2 * pad
        candidates: list[tuple[int, float, int]] = []  # (quality, seconds, last event)
        first_cut: int | None = None
        for i in range(start, n):
            event = events[i]
            beats += min(event.quarters, max_rest) if event.midi is None else event.quarters
            q = quality(i)
            if q == 0:
                continue
            first_cut = i if first_cut is None else first_cut
            trailing = min(event.quarters, max_rest) if event.midi is None else 0.0
            seconds = (beats - trailing) / beats_per_second
            if seconds > PHRASE_SECONDS[1]:
                break
            if seconds >= PHRASE_SECONDS[0]:
                candidates.append((q, seconds, i))
        if not candidates:  # no cut in range: skip to the first cut and go on from there
            start = next_note(first_cut + 1) if first_cut is not None else None
            continue
        pool = [c for c in candidates if c[0] == 2] or candidates
        end = min(pool, key=lambda c: abs(c[1] - target))[2]
        body = list(events[start : end + 1])
        while body[-1].midi is None:
            body.pop()
        phrase = [PhraseNote(None, pad)]
        phrase += [
            PhraseNote(e.midi, min(e.quarters, max_rest) if e.midi is None else e.quarters) for e in body
        ]
        phrase.append(PhraseNote(None, pad))
        phrases.append(tuple(phrase))
        start = next_note(end + 1)
    return phrases


def plan_songs(
    seed: int,
    hours: float,
    voices: Sequence[str],
    words: Sequence[str],
    catalog: Iterable[MelodyRef] | None = None,
    loader: Callable[[MelodyRef], Melody | None] = load_melody,
) -> list[SongItem]:
    """Every item of the corpus for `seed`, in order, totalling at most `hours` of audio."""
    if hours <= 0:
        raise UserError(f"--hours must be > 0, got {hours}")
    if not voices:
        raise UserError("no voices given")
    budget = hours * 3600.0
    total = 0.0
    items: list[SongItem] = []
    accepted: dict[str, int] = {}  # melodies accepted per corpus source
    for ref in catalog if catalog is not None else melody_catalog(seed):
        melody = loader(ref)
        if melody is None:
            continue
        rng = np.random.default_rng([seed, _hash(ref.id)])
        fitted = fit_melody(melody, rng)
        if fitted is None:
            continue
        transpose, bpm = fitted
        shifted = [MelodyNote(None if n.midi is None else n.midi + transpose, n.quarters, n.fermata, n.bar_start)
                   for n in melody.notes]  # fmt: skip
        cuts = cut_phrases(shifted, bpm, rng)
        if not cuts:
            continue
        source = ref.path.split("/")[0]
        split = split_for(accepted.get(source, 0))
        accepted[source] = accepted.get(source, 0) + 1
        for index, notes in enumerate(cuts):
            phrase = Phrase(ref, melody.title, index, bpm, transpose, notes)
            cost = (phrase.duration + MARGIN_SECONDS) * len(voices)
            if total + cost > budget:
                if not items:
                    raise UserError(
                        f"--hours {hours} is too short for one phrase ({cost:.1f} s with every voice)"
                    )
                return items
            total += cost
            for voice in voices:
                lyric_rng = np.random.default_rng([seed, _hash(ref.id), index, _hash(voice)])
                chosen = tuple(str(words[int(i)]) for i in lyric_rng.integers(0, len(words), phrase.n_sung))
                items.append(SongItem(phrase, voice, chosen, split))
    return items
