"""DiffSinger .ds files: round trip, note names and the validation errors a user can cause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vaudio.score.ds import DsSegment, read_ds, write_ds
from vaudio.score.pitch import midi_to_hz, midi_to_name, name_to_midi
from vcore.errors import UserError


def _segment() -> DsSegment:
    return DsSegment(
        ph_seq=["SP", "k", "ae", "t", "SP"],
        ph_dur=[0.3, 0.08, 0.5, 0.12, 0.25],
        text="SP cat SP",
        ph_num=[2, 2, 1],
        note_seq=["rest", "C#3", "rest"],
        note_dur=[0.38, 0.62, 0.25],
        note_slur=[0, 0, 0],
        f0_seq=np.full(250, 138.6),
        f0_timestep=0.005,
        extra={"spk": "kal"},
    )


def _raw(**changes: Any) -> dict[str, Any]:
    data = _segment().to_dict()
    data.update(changes)
    return data


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "song.ds"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_note_names() -> None:
    assert [midi_to_name(m) for m in (45, 60, 61, 64, 69)] == ["A2", "C4", "C#4", "E4", "A4"]
    assert [name_to_midi(n) for n in ("A2", "C4", "Db4", "C#4/Db4", "B#3", "Cb4", "e4")] == [
        45,
        60,
        61,
        61,
        60,
        59,
        64,
    ]
    assert float(midi_to_hz(69)) == 440.0
    np.testing.assert_allclose(midi_to_hz(np.array([45, 57])), [110.0, 220.0])
    with pytest.raises(ValueError, match="not a note name"):
        name_to_midi("H4")


def test_round_trip(tmp_path: Path) -> None:
    segment = _segment()
    write_ds(tmp_path / "a.ds", [segment, segment])
    back = read_ds(tmp_path / "a.ds")
    assert len(back) == 2
    got = back[1]
    assert got.ph_seq == segment.ph_seq
    assert got.ph_num == segment.ph_num
    assert got.text == segment.text
    assert got.note_seq == segment.note_seq
    assert got.note_slur == [0, 0, 0]
    np.testing.assert_allclose(got.ph_dur, segment.ph_dur)
    np.testing.assert_allclose(got.note_dur, segment.note_dur)
    assert got.f0_seq is not None
    np.testing.assert_allclose(got.f0_seq, 138.6)
    assert got.f0_timestep == 0.005
    assert got.extra == {"spk": "kal"}
    assert got.duration == pytest.approx(1.25)
    assert got.note_midi() == [None, 49, None]
    np.testing.assert_allclose(got.note_onsets(), [0.0, 0.38, 1.0])
    raw = json.loads((tmp_path / "a.ds").read_text())
    assert isinstance(raw, list)
    assert raw[0]["ph_dur"] == "0.3 0.08 0.5 0.12 0.25"
    assert raw[0]["ph_num"] == "2 2 1"


def test_single_object_and_minimal_segment(tmp_path: Path) -> None:
    path = _write(tmp_path, {"ph_seq": "SP a SP", "ph_dur": "0.1 0.2 0.1"})
    (segment,) = read_ds(path)
    assert segment.ph_seq == ["SP", "a", "SP"]
    assert segment.note_seq is None
    assert segment.f0_seq is None
    assert segment.offset == 0.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[{", "not valid JSON"),
        ([], "non-empty list"),
        ([3], "segment 0: expected an object"),
        (
            [_raw(), _raw(ph_dur="0.3 0.08 0.5 0.12")],
            "segment 1: ph_dur has 4 values but ph_seq has 5 phones",
        ),
        ([_raw(ph_dur="0.3 0.08 0 0.12 0.25")], r"segment 0: ph_dur\[2\] = 0.0 is not a positive duration"),
        ([_raw(ph_dur="0.3 -0.08 0.5 0.12 0.25")], r"ph_dur\[1\] = -0.08"),
        ([_raw(ph_dur="0.3 x 0.5 0.12 0.25")], "ph_dur holds 'x', not a number"),
        ([{"ph_dur": "0.1"}], "segment 0: missing field ph_seq"),
        ([_raw(ph_num="2 2 2")], "ph_num sums to 6 but ph_seq has 5 phones"),
        ([_raw(note_dur="0.38 0.62")], "note_dur has 2 values but note_seq has 3 notes"),
        ([_raw(note_seq="rest H3 rest")], r"note_seq\[1\] = 'H3' is neither a note name nor 'rest'"),
        ([_raw(note_dur="0.38 0.62 2.0")], "note_dur sums to 3.000 s but ph_dur to 1.250 s"),
        ([_raw(note_slur="0 2 0")], "note_slur values must be 0 or 1"),
        ([_raw(note_slur="1 0 0")], "note_slur\\[0\\] is 1"),
        ([_raw(ph_num="4 1")], "3 non-slur notes but ph_num has 2 words"),
        ([_raw(f0_timestep="0")], "f0_timestep must be > 0"),
        ([_raw(f0_seq="100 nan 100")], "f0_seq must be a non-empty list of finite values"),
        ([_raw(f0_seq=" ".join(["100"] * 100))], "f0_seq spans 0.500 s"),
    ],
)
def test_validation_errors_name_segment_and_field(tmp_path: Path, data: Any, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(UserError, match=message) as info:
        read_ds(path)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_missing_file_and_invalid_write(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no such \.ds file"):
        read_ds(tmp_path / "none.ds")
    bad = _segment()
    bad.ph_dur = bad.ph_dur[:-1]
    with pytest.raises(UserError, match="segment 0: ph_dur has 4 values"):
        write_ds(tmp_path / "bad.ds", [bad])
    assert not (tmp_path / "bad.ds").exists()
