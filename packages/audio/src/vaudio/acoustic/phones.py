"""The model's phone inventory: built from the training .ds files, stored in the checkpoint.

Index 0 is padding, then the phones in sorted order. A score whose phones are not all in the inventory
is rejected with `UnknownPhonesError` (a `UserError` listing them and where they occur) unless a phoneme
map is given: a JSON object {"score phone": "model phone" | "model phone model phone ..." | [...]},
where a list or space-separated value expands one score phone into several model phones (their
durations split the original's evenly). openvpi's Chinese pinyin phones ("zh", "ang", ...) are such a
case: `vaudio synth song.ds --phoneme-map pinyin.json`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from vcore.errors import UserError

PAD = "<pad>"
SILENCES = frozenset({"SP", "AP"})
"""Silence and breath: always in the inventory (AP is rendered like SP by a model that never saw one)."""

PhonemeMap = dict[str, list[str]]


class UnknownPhonesError(UserError):
    """Phones of a score that the model does not know."""


def build_inventory(phone_lists: Iterable[Sequence[str]]) -> list[str]:
    """Sorted phones of the training segments, with SP and AP always present (padding not included)."""
    phones = set(SILENCES)
    for seq in phone_lists:
        phones.update(seq)
    return sorted(phones)


class PhoneSet:
    """Phone <-> id (0 is padding, 1.. the inventory)."""

    def __init__(self, phones: Sequence[str]) -> None:
        if len(set(phones)) != len(phones) or PAD in phones:
            raise ValueError("phones must be distinct and must not contain the padding symbol")
        self.phones = list(phones)
        self.index = {p: i + 1 for i, p in enumerate(self.phones)}

    def __len__(self) -> int:
        """Number of ids, padding included."""
        return len(self.phones) + 1

    def __contains__(self, phone: object) -> bool:
        return phone in self.index

    def unknown(self, phones: Iterable[str]) -> list[str]:
        """Phones not in the inventory, in first-seen order."""
        return list(dict.fromkeys(p for p in phones if p not in self.index))

    def ids(self, phones: Sequence[str], where: str = "score") -> list[int]:
        """Ids of `phones`; `UnknownPhonesError` naming `where` and every unknown phone."""
        missing = self.unknown(phones)
        if missing:
            raise UnknownPhonesError(
                f"{where}: phones not in the model's phone set: {' '.join(missing)} "
                "(map them with --phoneme-map map.json)"
            )
        return [self.index["SP" if p == "AP" and "AP" not in self.index else p] for p in phones]


def read_phoneme_map(path: str | os.PathLike[str]) -> PhonemeMap:
    """A phoneme map file; `UserError` naming it when it is not a JSON object of phone -> phone(s)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such phoneme map") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read the phoneme map ({err})") from None
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON (line {err.lineno} column {err.colno}: {err.msg})") from None
    if not isinstance(data, dict):
        raise UserError(f'{path}: a phoneme map is a JSON object {{"phone": "model phone(s)"}}')
    out: PhonemeMap = {}
    for key, value in data.items():
        targets = value.split() if isinstance(value, str) else value
        if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
            raise UserError(f"{path}: entry {key!r} must map to a phone, a space-separated string or a list")
        out[str(key)] = [str(t) for t in targets]
    return out


def check_map(mapping: PhonemeMap, phones: PhoneSet, where: str) -> None:
    """`UserError` when the map's targets are themselves unknown to the model."""
    bad = phones.unknown(t for targets in mapping.values() for t in targets)
    if bad:
        raise UserError(f"{where}: phoneme map targets not in the model's phone set: {' '.join(bad)}")


def apply_map(
    ph_seq: Sequence[str], ph_dur: Sequence[float], mapping: PhonemeMap
) -> tuple[list[str], list[float], list[int]]:
    """(phones, durations, how many phones each original became) after mapping; unmapped phones stay."""
    seq: list[str] = []
    dur: list[float] = []
    counts: list[int] = []
    for phone, seconds in zip(ph_seq, ph_dur, strict=True):
        targets = mapping.get(phone, [phone])
        seq.extend(targets)
        dur.extend([seconds / len(targets)] * len(targets))
        counts.append(len(targets))
    return seq, dur, counts
