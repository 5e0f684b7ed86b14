"""DiffSinger .ds files: read, validate and write the segments the acoustic model trains on.

A .ds file (openvpi/DiffSinger's inference format, also what OpenUtau exports) is JSON: a list of segment
objects (a single object is accepted too). Sequences are strings of space-separated values:

    offset       start of the segment in the song, seconds
    text         the words, space-separated ("SP" for a silence)
    ph_seq       phones; "SP" is silence, "AP" a breath
    ph_dur       seconds per phone, > 0
    ph_num       phones per word, where a word is the time range of one non-slur note, so the first
                 phone of a word starts at its note (the vowel: onset consonants belong to the word
                 before); sum(ph_num) = len(ph_seq)
    note_seq     notes ("C#4") or "rest";  note_dur seconds per note, > 0;  note_slur 1 if the note
                 continues the previous word (a melisma), else 0, so #(note_slur == 0) = len(ph_num)
    f0_seq       F0 in Hz every f0_timestep seconds, covering sum(ph_dur)

`read_ds` checks all of this and raises `UserError` naming the file, the segment index and the field
("song.ds: segment 2: ph_dur has 5 values but ph_seq has 6 phones"); keys it does not know are kept in
`DsSegment.extra` and written back. `write_ds` validates, then writes atomically.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaudio.score.pitch import name_to_midi
from vcore.errors import UserError
from vcore.io.atomic import atomic_write_text

REST = "rest"
SILENCE = "SP"
DURATION_TOLERANCE = 0.05
"""Seconds by which sum(note_dur) may differ from sum(ph_dur), and f0_seq's span from either."""
KNOWN_FIELDS = (
    "offset", "text", "ph_seq", "ph_dur", "ph_num", "note_seq", "note_dur", "note_slur", "f0_seq", "f0_timestep",
)  # fmt: skip


@dataclass(eq=False)
class DsSegment:
    """One segment of a .ds file; the optional fields are None when the file lacks them."""

    ph_seq: list[str]
    ph_dur: list[float]
    offset: float = 0.0
    text: str = ""
    ph_num: list[int] | None = None
    note_seq: list[str] | None = None
    note_dur: list[float] | None = None
    note_slur: list[int] | None = None
    f0_seq: np.ndarray | None = None
    f0_timestep: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Seconds the segment lasts: sum(ph_dur)."""
        return float(sum(self.ph_dur))

    def note_midi(self) -> list[int | None]:
        """MIDI number of each note, None for rests (note_seq required)."""
        if self.note_seq is None:
            raise ValueError("the segment has no note_seq")
        return [None if n == REST else name_to_midi(n) for n in self.note_seq]

    def note_onsets(self) -> np.ndarray:
        """Start time of each note in seconds from the segment start (note_dur required)."""
        if self.note_dur is None:
            raise ValueError("the segment has no note_dur")
        return np.concatenate([[0.0], np.cumsum(self.note_dur)[:-1]])

    def validate(self, where: str = "segment") -> None:
        """Raise `UserError` ("<where>: <field> ...") unless the fields are consistent."""
        _validate(self, where)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the segment (sequences as space-separated strings)."""
        out: dict[str, Any] = {"offset": self.offset, "text": self.text, "ph_seq": " ".join(self.ph_seq)}
        out["ph_dur"] = _join(self.ph_dur, 6)
        if self.ph_num is not None:
            out["ph_num"] = " ".join(str(n) for n in self.ph_num)
        if self.note_seq is not None:
            out["note_seq"] = " ".join(self.note_seq)
        if self.note_dur is not None:
            out["note_dur"] = _join(self.note_dur, 6)
        if self.note_slur is not None:
            out["note_slur"] = " ".join(str(s) for s in self.note_slur)
        if self.f0_seq is not None:
            out["f0_seq"] = _join(self.f0_seq, 1)
        if self.f0_timestep is not None:
            out["f0_timestep"] = str(self.f0_timestep)
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "segment") -> DsSegment:
        """Parse one segment object; raises `UserError` naming `where` and the field."""
        for name in ("ph_seq", "ph_dur"):
            if name not in data:
                raise UserError(f"{where}: missing field {name}")
        f0 = data.get("f0_seq")
        step = data.get("f0_timestep")
        segment = cls(
            ph_seq=_words(data["ph_seq"], where, "ph_seq"),
            ph_dur=_numbers(data["ph_dur"], where, "ph_dur"),
            offset=_number(data.get("offset", 0.0), where, "offset"),
            text=str(data.get("text", "")),
            ph_num=_ints(data["ph_num"], where, "ph_num") if "ph_num" in data else None,
            note_seq=_words(data["note_seq"], where, "note_seq") if "note_seq" in data else None,
            note_dur=_numbers(data["note_dur"], where, "note_dur") if "note_dur" in data else None,
            note_slur=_ints(data["note_slur"], where, "note_slur") if "note_slur" in data else None,
            f0_seq=np.asarray(_numbers(f0, where, "f0_seq"), dtype=np.float64) if f0 is not None else None,
            f0_timestep=_number(step, where, "f0_timestep") if step is not None else None,
            extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        )
        segment.validate(where)
        return segment


def read_ds(path: str | os.PathLike[str]) -> list[DsSegment]:
    """The validated segments of a .ds file; any problem is a `UserError` naming the file and segment."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such .ds file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read the .ds file ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON (line {err.lineno} column {err.colno}: {err.msg})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise UserError(f"{path}: a .ds file holds a non-empty list of segment objects")
    segments = []
    for i, item in enumerate(data):
        where = f"{path}: segment {i}"
        if not isinstance(item, dict):
            raise UserError(f"{where}: expected an object, got {type(item).__name__}")
        segments.append(DsSegment.from_dict(item, where))
    return segments


def write_ds(path: str | os.PathLike[str], segments: Sequence[DsSegment]) -> Path:
    """Validate `segments` and write them as a .ds file (JSON list, 2-space indent), atomically."""
    if not segments:
        raise ValueError("a .ds file needs at least one segment")
    for i, segment in enumerate(segments):
        segment.validate(f"{path}: segment {i}")
    text = json.dumps([s.to_dict() for s in segments], indent=2, ensure_ascii=False) + "\n"
    return atomic_write_text(path, text)


def _validate(s: DsSegment, where: str) -> None:
    if not s.ph_seq:
        raise UserError(f"{where}: ph_seq is empty")
    if len(s.ph_dur) != len(s.ph_seq):
        raise UserError(f"{where}: ph_dur has {len(s.ph_dur)} values but ph_seq has {len(s.ph_seq)} phones")
    _positive(s.ph_dur, where, "ph_dur")
    if not (math.isfinite(s.offset) and s.offset >= 0):
        raise UserError(f"{where}: offset must be a finite number >= 0, got {s.offset}")
    if s.ph_num is not None:
        if any(n < 1 for n in s.ph_num):
            raise UserError(f"{where}: ph_num values must be >= 1")
        if sum(s.ph_num) != len(s.ph_seq):
            raise UserError(f"{where}: ph_num sums to {sum(s.ph_num)} but ph_seq has {len(s.ph_seq)} phones")
    _validate_notes(s, where)
    if s.f0_seq is not None or s.f0_timestep is not None:
        if s.f0_seq is None or s.f0_timestep is None:
            raise UserError(f"{where}: f0_seq and f0_timestep come together")
        if not (math.isfinite(s.f0_timestep) and s.f0_timestep > 0):
            raise UserError(f"{where}: f0_timestep must be > 0, got {s.f0_timestep}")
        if s.f0_seq.size == 0 or not np.isfinite(s.f0_seq).all() or (s.f0_seq < 0).any():
            raise UserError(f"{where}: f0_seq must be a non-empty list of finite values >= 0 (Hz)")
        span = s.f0_seq.size * s.f0_timestep
        if abs(span - s.duration) > max(DURATION_TOLERANCE, 3 * s.f0_timestep):
            raise UserError(
                f"{where}: f0_seq spans {span:.3f} s ({s.f0_seq.size} x {s.f0_timestep} s) "
                f"but ph_dur sums to {s.duration:.3f} s"
            )


def _validate_notes(s: DsSegment, where: str) -> None:
    if s.note_seq is None and s.note_dur is None and s.note_slur is None:
        return
    if s.note_seq is None or s.note_dur is None:
        raise UserError(f"{where}: note_seq and note_dur come together")
    if len(s.note_dur) != len(s.note_seq):
        raise UserError(
            f"{where}: note_dur has {len(s.note_dur)} values but note_seq has {len(s.note_seq)} notes"
        )
    _positive(s.note_dur, where, "note_dur")
    for k, name in enumerate(s.note_seq):
        if name != REST:
            try:
                name_to_midi(name)
            except ValueError:
                raise UserError(
                    f"{where}: note_seq[{k}] = {name!r} is neither a note name nor 'rest'"
                ) from None
    if abs(sum(s.note_dur) - s.duration) > DURATION_TOLERANCE:
        raise UserError(f"{where}: note_dur sums to {sum(s.note_dur):.3f} s but ph_dur to {s.duration:.3f} s")
    if s.note_slur is not None:
        if len(s.note_slur) != len(s.note_seq):
            raise UserError(
                f"{where}: note_slur has {len(s.note_slur)} values but note_seq has {len(s.note_seq)} notes"
            )
        if any(v not in (0, 1) for v in s.note_slur):
            raise UserError(f"{where}: note_slur values must be 0 or 1")
        if s.note_slur and s.note_slur[0] == 1:
            raise UserError(f"{where}: note_slur[0] is 1 but the first note has no word to continue")
    words = len(s.note_seq) - sum(s.note_slur or [])
    if s.ph_num is not None and words != len(s.ph_num):
        raise UserError(f"{where}: {words} non-slur notes but ph_num has {len(s.ph_num)} words")


def _positive(values: Sequence[float], where: str, name: str) -> None:
    for k, v in enumerate(values):
        if not (math.isfinite(v) and v > 0):
            raise UserError(f"{where}: {name}[{k}] = {v} is not a positive duration")


def _split(value: Any, where: str, name: str) -> list[Any]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return value
    raise UserError(f"{where}: {name} must be a string of space-separated values, got {type(value).__name__}")


def _words(value: Any, where: str, name: str) -> list[str]:
    return [str(v) for v in _split(value, where, name)]


def _numbers(value: Any, where: str, name: str) -> list[float]:
    return [_number(v, where, name) for v in _split(value, where, name)]


def _number(value: Any, where: str, name: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: {name} holds {value!r}, not a number") from None


def _ints(value: Any, where: str, name: str) -> list[int]:
    out = []
    for v in _split(value, where, name):
        number = _number(v, where, name)
        if not number.is_integer():
            raise UserError(f"{where}: {name} holds {v!r}, not an integer")
        out.append(int(number))
    return out


def _join(values: Sequence[float] | np.ndarray, decimals: int) -> str:
    return " ".join(_fmt(float(v), decimals) for v in values)


def _fmt(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
