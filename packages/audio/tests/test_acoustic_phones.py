"""Phone inventory, unknown-phone errors and phoneme maps."""

from __future__ import annotations

import json

import pytest

from vaudio.acoustic.phones import (
    PhoneSet,
    UnknownPhonesError,
    apply_map,
    build_inventory,
    check_map,
    read_phoneme_map,
)
from vcore.errors import UserError


def test_inventory_always_has_silence_and_breath() -> None:
    assert build_inventory([["SP", "k", "ae", "t"], ["d", "ao", "g"]]) == sorted(
        ["AP", "SP", "ae", "ao", "d", "g", "k", "t"]
    )


def test_ids_and_unknown_phones() -> None:
    phones = PhoneSet(["AP", "SP", "aa", "l"])
    assert len(phones) == 5
    assert phones.ids(["SP", "l", "aa"]) == [2, 4, 3]
    assert phones.unknown(["zh", "l", "ang", "zh"]) == ["zh", "ang"]
    with pytest.raises(
        UnknownPhonesError, match=r"song\.ds: segment 1: phones not in the model.s phone set: zh ang"
    ):
        phones.ids(["zh", "l", "ang"], "song.ds: segment 1")


def test_phoneme_map_expands_and_splits_durations(tmp_path) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"zh": "jh", "ang": ["aa", "ng"], "i": "iy"}))
    mapping = read_phoneme_map(path)
    assert mapping == {"zh": ["jh"], "ang": ["aa", "ng"], "i": ["iy"]}
    seq, dur, counts = apply_map(["SP", "zh", "ang"], [0.2, 0.1, 0.4], mapping)
    assert seq == ["SP", "jh", "aa", "ng"]
    assert dur == [0.2, 0.1, 0.2, 0.2]
    assert counts == [1, 1, 2]
    with pytest.raises(UserError, match="targets not in the model's phone set: jh ng iy"):
        check_map(mapping, PhoneSet(["SP", "aa"]), "map.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"a": 3}', "entry 'a'"),
        ('{"a": ""}', "entry 'a'"),
    ],
)
def test_bad_phoneme_maps(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_phoneme_map(path)
    with pytest.raises(UserError, match="no such phoneme map"):
        read_phoneme_map(tmp_path / "missing.json")
