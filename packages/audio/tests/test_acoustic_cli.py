"""`vaudio synth` end to end with a tiny checkpoint, phoneme maps, and every bad input ending in exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from vaudio.acoustic.model import AcousticConfig, AcousticModel
from vaudio.acoustic.pitch import PitchModel
from vaudio.cli import app

runner = CliRunner()
CMU = [
    "aa",
    "ae",
    "ah",
    "ao",
    "aw",
    "ax",
    "ay",
    "b",
    "ch",
    "d",
    "dh",
    "eh",
    "er",
    "ey",
    "f",
    "g",
    "hh",
    "ih",
    "iy",
    "jh",
    "k",
    "l",
    "m",
    "n",
    "ng",
    "ow",
    "oy",
    "p",
    "r",
    "s",
    "sh",
    "t",
    "th",
    "uh",
    "uw",
    "v",
    "w",
    "y",
    "z",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    config = AcousticConfig(
        phones=sorted(["AP", "SP", *CMU]), hidden=16, filter_size=32, encoder_layers=1, decoder_layers=1,
        denoiser_channels=8, denoiser_layers=2, num_steps=10, boundary_k=4,
        pitch_model=PitchModel(phone_seconds={"l": 0.08}).to_dict(),
    )  # fmt: skip
    return AcousticModel(config).save_pretrained(tmp_path_factory.mktemp("ckpt") / "tiny")


def segment(offset: float, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "offset": offset,
        "text": "SP la la SP",
        "ph_seq": "SP l aa l aa SP",
        "ph_dur": "0.22 0.08 0.42 0.08 0.4 0.3",
        "ph_num": "2 2 1 1",
        "note_seq": "rest A3 C4 rest",
        "note_dur": "0.3 0.5 0.4 0.3",
        "note_slur": "0 0 0 0",
        "f0_seq": " ".join(["220"] * 300),
        "f0_timestep": "0.005",
    }
    data.update(overrides)
    return data


def write_ds(path, segments) -> str:
    path.write_text(json.dumps(segments))
    return str(path)


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def synth(*args: str):
    return runner.invoke(app, ["synth", *args, "--threads", "1", "--quiet"])


def test_ds_with_segments_at_offsets(checkpoint, tmp_path) -> None:
    score = write_ds(tmp_path / "song.ds", [segment(0.0), segment(2.0)])
    out, mel, png = tmp_path / "song.wav", tmp_path / "song.npy", tmp_path / "song.png"
    result = synth(
        score,
        "-o",
        str(out),
        "--checkpoint",
        str(checkpoint),
        "--mel-out",
        str(mel),
        "--plot",
        str(png),
        "--voice",
        "ked",
        "--key",
        "+2",
    )
    assert result.exit_code == 0, result.output
    frames = round((2.0 + 1.5) * 16000) // 256  # the second segment ends at 3.5 s
    assert np.load(mel).shape == (80, frames)
    audio, rate = sf.read(out)
    assert rate == 16000
    assert len(audio) == frames * 256
    assert png.stat().st_size > 1000


@pytest.mark.parametrize(
    "args", [["--k", "2", "--steps", "2"], ["--mode", "aux"], ["--mode", "full", "--steps", "3"]]
)
def test_modes(checkpoint, tmp_path, args: list[str]) -> None:
    score = write_ds(tmp_path / "song.ds", [segment(0.0)])
    result = synth(score, "-o", str(tmp_path / "o.wav"), "--checkpoint", str(checkpoint), *args)
    assert result.exit_code == 0, result.output


def test_pinyin_ds_needs_a_phoneme_map(checkpoint, tmp_path) -> None:
    pinyin = segment(
        0.0, ph_seq="SP x iao AP zh ang SP", ph_dur="0.22 0.08 0.42 0.05 0.03 0.4 0.3", ph_num="2 3 1 1"
    )
    score = write_ds(tmp_path / "openvpi.ds", [pinyin])
    out = tmp_path / "o.wav"
    line = one_error_line(synth(score, "-o", str(out), "--checkpoint", str(checkpoint)))
    assert (
        "phones not in the model's phone set: x (segment 0), iao (segment 0), zh (segment 0), ang (segment 0)"
        in line
    )
    assert "--phoneme-map" in line
    assert not out.exists()
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"x": "sh", "iao": "y aw", "zh": "jh", "ang": "aa ng"}))
    result = synth(score, "-o", str(out), "--checkpoint", str(checkpoint), "--phoneme-map", str(mapping))
    assert result.exit_code == 0, result.output
    assert out.is_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ph_dur": "0.22 0.08 0.42 0.08 0.4"}, "segment 1: ph_dur has 5 values but ph_seq has 6 phones"),
        ({"ph_dur": "0.22 0.08 0.42 0 0.48 0.3"}, "segment 1: ph_dur[3] = 0.0 is not a positive duration"),
        ({"note_dur": "0.3 -0.5 0.4 0.3"}, "segment 1: note_dur[1] = -0.5 is not a positive duration"),
        ({"note_seq": "rest A3 C7 rest"}, "segment 1: note_seq[2] = C7 is outside the model's range C2..C6"),
        ({"note_seq": "rest A3 H4 rest"}, "segment 1: note_seq[2] = 'H4' is neither a note name nor 'rest'"),
        ({"ph_num": "2 2 1"}, "segment 1: ph_num sums to 5 but ph_seq has 6 phones"),
    ],
)
def test_bad_ds_names_segment_and_field(checkpoint, tmp_path, change, message) -> None:
    score = write_ds(tmp_path / "bad.ds", [segment(0.0), segment(2.0, **change)])
    out = tmp_path / "o.wav"
    assert message in one_error_line(synth(score, "-o", str(out), "--checkpoint", str(checkpoint)))
    assert not out.exists()


def test_malformed_files(checkpoint, tmp_path) -> None:
    bad_json = tmp_path / "bad.ds"
    bad_json.write_text('[{"ph_seq": "SP"')
    assert "not valid JSON" in one_error_line(
        synth(str(bad_json), "-o", str(tmp_path / "o.wav"), "--checkpoint", str(checkpoint))
    )
    for name, text in (("bad.musicxml", "<score-partwise><part"), ("bad.mid", "MThd garbage")):
        path = tmp_path / name
        path.write_text(text)
        line = one_error_line(
            synth(str(path), "-o", str(tmp_path / "o.wav"), "--checkpoint", str(checkpoint))
        )
        assert str(path) in line
        assert "score" in line
    line = one_error_line(
        synth(str(tmp_path / "x.txt"), "-o", str(tmp_path / "o.wav"), "--checkpoint", str(checkpoint))
    )
    assert "unknown score type" in line


def test_bad_options(checkpoint, tmp_path) -> None:
    score = write_ds(tmp_path / "song.ds", [segment(0.0)])
    out = str(tmp_path / "o.wav")
    assert "--k must lie in [1, 10]" in one_error_line(
        synth(score, "-o", out, "--checkpoint", str(checkpoint), "--k", "11")
    )
    assert "--voice must be one of kal, ked" in one_error_line(
        synth(score, "-o", out, "--checkpoint", str(checkpoint), "--voice", "bob")
    )
    assert "expected a .wav file" in one_error_line(
        synth(score, "-o", str(tmp_path / "o.mp3"), "--checkpoint", str(checkpoint))
    )
    assert "range" in one_error_line(synth(score, "-o", out, "--checkpoint", str(checkpoint), "--key", "+40"))


def test_shipped_pinyin_map_targets_cmu_phones(checkpoint, tmp_path) -> None:
    from pathlib import Path

    import vaudio.acoustic
    from vaudio.acoustic.phones import PhoneSet, check_map, read_phoneme_map

    path = Path(vaudio.acoustic.__file__).parent / "maps" / "pinyin.json"
    mapping = read_phoneme_map(path)
    check_map(mapping, PhoneSet(sorted(["AP", "SP", *CMU])), str(path))
    pinyin = segment(
        0.0, ph_seq="SP x iao AP zh ang SP", ph_dur="0.22 0.08 0.42 0.05 0.03 0.4 0.3", ph_num="2 3 1 1"
    )
    score = write_ds(tmp_path / "openvpi.ds", [pinyin])
    result = synth(
        score, "-o", str(tmp_path / "o.wav"), "--checkpoint", str(checkpoint), "--phoneme-map", str(path)
    )
    assert result.exit_code == 0, result.output
