r"""MusicXML and MIDI scores -> one DiffSinger segment (notes, lyrics' phones, no ph_dur / f0).

music21 parses the file; the first part is sung (the top note of a chord). Ties are merged
(`stripTies`), consecutive rests joined, and times come from music21's `secondsMap`, which follows
every tempo mark (so tempo changes are honoured; without one music21's default, quarter = 120).

Lyrics. A note with a lyric starts a syllable; a note without one right after a sung note continues it
(a slur/melisma, note_slur = 1); a note without one after a rest, or every note of a score without
lyrics, sings "la". Multi-syllable words (syllabic begin/middle/end) are looked up whole in Festival's
lexicon (the CMU lexicon of the kal/ked voices, the corpus's phone set: one `festival -b` run for all
words) and their lexicon syllables given to the notes in order; when the counts differ, each syllable
is looked up on its own.

Phones per word group follow the corpus convention (`vaudio.score.ds`): a group starts with its vowel
at the note, and the onset consonants of a syllable belong to the group before it. A 0.3 s rest (SP)
is added before the first note, so the first onset has a group to go to, and after the last one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vaudio.score.ds import DsSegment
from vaudio.score.pitch import midi_to_name
from vcore.errors import UserError

VOWELS = frozenset(
    [
        "aa",
        "ae",
        "ah",
        "ao",
        "aw",
        "ax",
        "axr",
        "ay",
        "eh",
        "el",
        "em",
        "en",
        "er",
        "ey",
        "ih",
        "ix",
        "iy",
        "ow",
        "oy",
        "uh",
        "uw",
    ]
)
PAD_SECONDS = 0.3
DEFAULT_SYLLABLE = "la"
SCORE_SUFFIXES = (".musicxml", ".xml", ".mxl", ".mid", ".midi")


@dataclass
class Event:
    """A note (MIDI) or rest (None) with its length in seconds and, for notes, lyric and syllabic."""

    midi: int | None
    seconds: float
    lyric: str | None = None
    syllabic: str | None = None


def read_events(path: Path) -> list[Event]:
    """Notes and rests of the first part, ties merged, rests joined; `UserError` naming the file."""
    import music21

    try:
        score = music21.converter.parse(str(path))
    except Exception as err:  # music21 raises many types for malformed files
        raise UserError(f"{path}: cannot parse the score ({type(err).__name__}: {str(err)[:200]})") from None
    parts = list(getattr(score, "parts", [])) or [score]
    try:
        part = parts[0].stripTies()
        flat = part.flatten()
        timeline = flat.secondsMap
    except Exception as err:
        raise UserError(f"{path}: cannot read the score's notes ({type(err).__name__}: {err})") from None
    events: list[Event] = []
    for entry in timeline:
        element = entry["element"]
        seconds = float(entry["durationSeconds"])
        if not isinstance(element, (music21.note.Note, music21.note.Rest, music21.chord.Chord)):
            continue
        if element.duration.isGrace or seconds <= 0:
            continue
        if isinstance(element, music21.note.Rest):
            if events and events[-1].midi is None:
                events[-1].seconds += seconds
            else:
                events.append(Event(None, seconds))
            continue
        pitch = element.pitches[-1] if isinstance(element, music21.chord.Chord) else element.pitch
        lyric = element.lyrics[0] if element.lyrics else None
        text = _clean(lyric.text) if lyric is not None and lyric.text else None
        syllabic = lyric.syllabic if lyric is not None and text else None
        events.append(Event(round(pitch.ps), seconds, text or None, syllabic))
    if not any(e.midi is not None for e in events):
        raise UserError(f"{path}: the score has no notes")
    while events and events[-1].midi is None:
        events.pop()
    while events and events[0].midi is None:
        events.pop(0)
    return events


def _clean(text: str) -> str:
    return re.sub(r"[^a-z']", "", text.lower()).strip("'")


def lexicon_lookup(words: list[str]) -> dict[str, list[list[str]]]:
    """Syllables (phone lists) of each word from Festival's lexicon (letter-to-sound for unknown words)."""
    unique = sorted(set(words))
    if not unique:
        return {}
    if shutil.which("festival") is None:
        raise UserError("festival is not installed: lyrics need its lexicon (apt install festival)")
    quoted = " ".join(f'"{w}"' for w in unique)
    script = (
        "(voice_kal_diphone)\n"
        f'(mapcar (lambda (w) (format t "%s\\t%l\\n" w (lex.lookup w nil))) (list {quoted}))\n'
    )
    with tempfile.TemporaryDirectory(prefix="vaudio-lex-") as tmp:
        file = Path(tmp) / "lookup.scm"
        file.write_text(script, encoding="utf-8")
        done = subprocess.run(
            ["festival", "-b", str(file)], capture_output=True, text=True, timeout=120, check=False
        )
    out: dict[str, list[list[str]]] = {}
    for line in done.stdout.splitlines():
        if "\t" not in line:
            continue
        word, entry = line.split("\t", 1)
        out[word] = [s.split() for s in re.findall(r"\(\(([a-z0-9 ]+)\) \d\)", entry)]
    missing = [w for w in unique if not out.get(w)]
    if missing:
        raise UserError(f"Festival's lexicon gave no pronunciation for: {' '.join(missing)}")
    return out


def _split_syllable(phones: list[str]) -> tuple[list[str], list[str]]:
    """(onset consonants, vowel + coda) of one syllable (all phones are the onset if none is a vowel)."""
    for i, p in enumerate(phones):
        if p in VOWELS:
            return phones[:i], phones[i:]
    return [], phones


def syllables_of(events: list[Event]) -> list[list[str] | None]:
    """Phones of the syllable each note starts (None for rests and slurred notes)."""
    sung = [e for e in events if e.midi is not None]
    has_lyrics = any(e.lyric for e in sung)
    texts: list[str | None] = []
    previous_sung = False
    for e in events:
        if e.midi is None:
            texts.append(None)
            previous_sung = False
            continue
        if e.lyric:
            texts.append(e.lyric)
        elif has_lyrics and previous_sung:
            texts.append(None)  # melisma: continues the previous syllable
        else:
            texts.append(DEFAULT_SYLLABLE)
            e.syllabic = "single"
        previous_sung = True
    # words: runs of syllables joined by syllabic begin/middle/end
    words: list[list[int]] = []
    for i, (e, text) in enumerate(zip(events, texts, strict=True)):
        if text is None:
            continue
        if e.syllabic in ("middle", "end") and words:
            words[-1].append(i)
        else:
            words.append([i])
    joined = ["".join(texts[i] or "" for i in w) for w in words]
    lexicon = lexicon_lookup(joined + [texts[i] or "" for w in words if len(w) > 1 for i in w])
    out: list[list[str] | None] = [None] * len(events)
    for w, word in zip(words, joined, strict=True):
        syllables = lexicon[word]
        if len(syllables) == len(w):
            for i, phones in zip(w, syllables, strict=True):
                out[i] = list(phones)
        elif len(w) == 1:
            out[w[0]] = [p for s in syllables for p in s]
        else:
            for i in w:
                out[i] = [p for s in lexicon[texts[i] or ""] for p in s]
    return out


def events_to_segment(events: list[Event]) -> DsSegment:
    """The segment of a melody (see the module docstring); no ph_dur beyond placeholders, no f0."""
    phones = syllables_of(events)
    note_seq, note_dur, note_slur, text = ["rest"], [PAD_SECONDS], [0], ["SP"]
    groups: list[list[str]] = [["SP"]]
    for e, syllable in zip(events, phones, strict=True):
        note_dur.append(e.seconds)
        if e.midi is None:
            note_seq.append("rest")
            note_slur.append(0)
            text.append("SP")
            groups.append(["SP"])
        elif syllable is None:
            note_seq.append(midi_to_name(e.midi))
            note_slur.append(1)
        else:
            onset, rhyme = _split_syllable(syllable)
            groups[-1].extend(onset)
            note_seq.append(midi_to_name(e.midi))
            note_slur.append(0)
            text.append(e.lyric or DEFAULT_SYLLABLE)
            groups.append(rhyme)
    note_seq.append("rest")
    note_dur.append(PAD_SECONDS)
    note_slur.append(0)
    text.append("SP")
    groups.append(["SP"])
    ph_seq = [p for g in groups for p in g]
    # placeholder durations (the caller replaces them with `vaudio.acoustic.pitch.place_phones`)
    total = sum(note_dur)
    ph_dur = [total / len(ph_seq)] * len(ph_seq)
    return DsSegment(
        ph_seq=ph_seq,
        ph_dur=ph_dur,
        text=" ".join(text),
        ph_num=[len(g) for g in groups],
        note_seq=note_seq,
        note_dur=note_dur,
        note_slur=note_slur,
    )


def read_score(path: Path) -> list[DsSegment]:
    """MusicXML (.musicxml/.xml/.mxl) or MIDI (.mid/.midi) -> [segment] (UserError naming the file)."""
    if not path.is_file():
        raise UserError(f"{path}: no such score file")
    return [events_to_segment(read_events(path))]
