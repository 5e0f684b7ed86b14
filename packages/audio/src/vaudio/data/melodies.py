"""Monophonic melodies from music21's bundled corpus (nothing is downloaded).

Two sources, both in the music21 wheel (music21/corpus, BSD licence; the corpus files carry their own
notes on origin):

- Essen folk songs (`essenFolksong/*.abc`, Helmut Schaffrath's Essen Associative Code collection as ABC,
  about 9,000 German, other European and Chinese tunes; one file holds many, told apart by `X:` number);
  the four `test*.abc` files are left out.
- Bach chorales (`bach/*.mxl`, the four-part chorale harmonisations): the soprano line, i.e. the chorale
  melody. Scores without four parts and a first part named Soprano are skipped.

`melody_catalog(seed)` lists every candidate (a `MelodyRef`) without parsing it: each source in a seeded
shuffle, the two interleaved one by one. `load_melody(ref)` parses one with music21 (`forceSource=True`,
so nothing is cached on disk) and returns a `Melody` of notes and rests in quarter notes, ties merged,
grace notes dropped, gaps filled with rests; it returns None for a part that is not a plain melody
(chords, overlapping voices, microtones, unpitched notes, no notes).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

ESSEN = "essenFolksong"
BACH = "bach"
EXCLUDED_ESSEN_FILES = frozenset({"test0.abc", "test1.abc", "testd.abc", "teste.abc"})
_X_LINE = re.compile(r"^X:\s*(\d+)", re.MULTILINE)
_EPS = 1e-6


@dataclass(frozen=True)
class MelodyRef:
    """Where a melody lives: a corpus file (relative to music21/corpus) and a tune number or part name."""

    path: str
    number: int | None = None
    part: str | None = None

    @property
    def id(self) -> str:
        """Stable name, e.g. "essenFolksong/han1.abc#5" or "bach/bwv1.6.mxl#Soprano"."""
        return f"{self.path}#{self.number if self.number is not None else self.part}"

    @property
    def slug(self) -> str:
        """File-name-safe short name, e.g. "essen-han1-0005" or "bach-bwv1.6"."""
        stem = Path(self.path).stem
        if self.number is not None:
            return f"essen-{stem}-{self.number:04d}"
        return f"bach-{stem}"


@dataclass(frozen=True)
class MelodyNote:
    """A note (MIDI number) or rest (None) lasting `quarters` quarter notes."""

    midi: int | None
    quarters: float
    fermata: bool = False
    bar_start: bool = False
    """A bar line comes right before this event."""


@dataclass(frozen=True)
class Melody:
    ref: MelodyRef
    title: str
    notes: tuple[MelodyNote, ...]

    @property
    def pitches(self) -> list[int]:
        return [n.midi for n in self.notes if n.midi is not None]


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


@lru_cache(maxsize=1)
def _essen_refs() -> tuple[MelodyRef, ...]:
    refs: list[MelodyRef] = []
    for path in sorted((corpus_root() / ESSEN).glob("*.abc")):
        if path.name in EXCLUDED_ESSEN_FILES:
            continue
        numbers = sorted({int(x) for x in _X_LINE.findall(path.read_text(encoding="latin-1"))})
        refs.extend(MelodyRef(f"{ESSEN}/{path.name}", number=n) for n in numbers)
    return tuple(refs)


@lru_cache(maxsize=1)
def _bach_refs() -> tuple[MelodyRef, ...]:
    paths = sorted((corpus_root() / BACH).glob("*.mxl"))
    return tuple(MelodyRef(f"{BACH}/{p.name}", part="Soprano") for p in paths)


def melody_catalog(seed: int) -> list[MelodyRef]:
    """Every candidate melody: Essen tunes and Bach chorale sopranos, each shuffled by `seed`, interleaved."""
    rng = np.random.default_rng([seed, 0x6D656C])
    essen = [_essen_refs()[i] for i in rng.permutation(len(_essen_refs()))]
    bach = [_bach_refs()[i] for i in rng.permutation(len(_bach_refs()))]
    out: list[MelodyRef] = []
    for k in range(max(len(essen), len(bach))):
        out.extend(source[k] for source in (essen, bach) if k < len(source))
    return out


def load_melody(ref: MelodyRef) -> Melody | None:
    """Parse one melody; None (with a debug log line) when it is not a plain monophonic tune."""
    from music21 import converter, stream

    path = corpus_root() / ref.path
    try:
        if ref.number is not None:
            score = converter.parse(path, number=ref.number, forceSource=True)
        else:
            score = converter.parse(path, forceSource=True)
    except Exception as err:  # music21 raises many types for corrupt or unsupported files
        logger.debug("%s: music21 cannot parse it (%s)", ref.id, err)
        return None
    parts: list[stream.Stream] = list(score.parts) if isinstance(score, stream.Score) else [score]
    if not parts:
        return None
    name = str(getattr(parts[0], "partName", None) or "")
    if ref.part is not None and (len(parts) != 4 or name.lower() != ref.part.lower()):
        logger.debug("%s: not a four-part chorale with a %s line", ref.id, ref.part)
        return None
    title = (score.metadata.bestTitle if score.metadata is not None else None) or Path(ref.path).stem
    notes = _monophonic_notes(parts[0], ref.id)
    if notes is None:
        return None
    return Melody(ref, str(title), notes)


def _monophonic_notes(part: object, name: str) -> tuple[MelodyNote, ...] | None:
    from music21 import expressions, note, stream

    assert isinstance(part, stream.Stream)
    part = part.stripTies()
    bars = {round(float(m.offset), 6) for m in part.getElementsByClass(stream.Measure)}
    events: list[MelodyNote] = []
    position = 0.0
    for element in part.flatten().notesAndRests:
        quarters = float(element.quarterLength)
        if quarters <= _EPS:
            continue  # grace note
        offset = float(element.offset)
        if offset < position - _EPS:
            logger.debug("%s: overlapping notes at quarter %.2f", name, offset)
            return None
        if offset > position + _EPS:
            events.append(MelodyNote(None, offset - position, bar_start=round(position, 6) in bars))
        midi: int | None = None
        if isinstance(element, note.Note):
            alter = element.pitch.alter
            if element.pitch.microtone.cents != 0 or float(alter) != int(alter):
                logger.debug("%s: microtonal note %s", name, element.pitch)
                return None
            midi = int(element.pitch.midi)
        elif not isinstance(element, note.Rest):
            logger.debug("%s: %s at quarter %.2f is not a single note", name, type(element).__name__, offset)
            return None
        fermata = any(isinstance(e, expressions.Fermata) for e in element.expressions)
        events.append(MelodyNote(midi, quarters, fermata, round(offset, 6) in bars))
        position = offset + quarters
    if not any(e.midi is not None for e in events):
        return None
    return tuple(events)
