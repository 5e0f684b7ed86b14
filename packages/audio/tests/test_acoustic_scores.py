"""MusicXML and MIDI through music21: rests, melismas, ties and tempo changes; lyrics through Festival."""

from __future__ import annotations

import shutil

import pytest

from vaudio.acoustic.scores import _split_syllable, read_score

pytestmark = pytest.mark.skipif(shutil.which("festival") is None, reason="needs Festival's lexicon")


def build_score():
    import music21

    part = music21.stream.Part()
    part.append(music21.tempo.MetronomeMark(number=90))
    for name, beats, text, syllabic in [
        ("C4", 1.0, "hel", "begin"), ("D4", 1.0, "lo", "end"), ("E4", 0.5, None, None), ("F4", 0.5, None, None),
    ]:  # fmt: skip
        note = music21.note.Note(name, quarterLength=beats)
        if text:
            note.lyrics = [music21.note.Lyric(text=text, syllabic=syllabic)]
        part.append(note)
    part.append(music21.note.Rest(quarterLength=1.0))
    part.append(music21.tempo.MetronomeMark(number=60))  # tempo change: a beat now lasts 1 s
    first = music21.note.Note("G3", quarterLength=1.0)
    first.tie = music21.tie.Tie("start")
    first.lyric = "star"
    second = music21.note.Note("G3", quarterLength=1.0)
    second.tie = music21.tie.Tie("stop")
    part.append([first, second])
    score = music21.stream.Score()
    score.append(part)
    return score


def test_musicxml_rest_melisma_tie_and_tempo_change(tmp_path) -> None:
    path = tmp_path / "song.musicxml"
    build_score().write("musicxml", str(path))
    (segment,) = read_score(path)
    assert segment.note_seq == ["rest", "C4", "D4", "E4", "F4", "rest", "G3", "rest"]
    assert segment.note_slur == [0, 0, 0, 1, 1, 0, 0, 0]  # E4 and F4 continue "lo" (a melisma)
    expected = [0.3, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 2 / 3, 2.0, 0.3]  # the tie makes one 2-s G3 at 60 BPM
    assert segment.note_dur == pytest.approx(expected, abs=1e-6)
    # "hello" as the lexicon syllabifies it, onsets moved to the group before: SP hh | ax l | ow | SP s t | aa r | SP
    assert segment.ph_seq == ["SP", "hh", "ax", "l", "ow", "SP", "s", "t", "aa", "r", "SP"]
    assert segment.ph_num == [2, 2, 1, 3, 2, 1]
    assert segment.text == "SP hel lo SP star SP"


def test_midi_keeps_notes_rests_ties_and_tempo(tmp_path) -> None:
    path = tmp_path / "song.mid"
    build_score().write("midi", str(path))
    (segment,) = read_score(path)
    assert segment.note_seq == ["rest", "C4", "D4", "E4", "F4", "rest", "G3", "rest"]
    assert segment.note_dur == pytest.approx([0.3, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 2 / 3, 2.0, 0.3], abs=1e-3)
    assert sum(segment.ph_num or []) == len(segment.ph_seq)


def test_score_without_lyrics_sings_la(tmp_path) -> None:
    import music21

    part = music21.stream.Part(
        [music21.note.Note("A3", quarterLength=1.0), music21.note.Note("B3", quarterLength=2.0)]
    )
    path = tmp_path / "la.musicxml"
    part.write("musicxml", str(path))
    (segment,) = read_score(path)
    assert segment.ph_seq == ["SP", "l", "aa", "l", "aa", "SP"]
    assert segment.note_slur == [0, 0, 0, 0]


def test_syllable_split() -> None:
    assert _split_syllable(["s", "t", "aa", "r"]) == (["s", "t"], ["aa", "r"])
    assert _split_syllable(["m"]) == ([], ["m"])


def test_synth_from_musicxml(tmp_path) -> None:
    import torch
    from typer.testing import CliRunner

    from vaudio.acoustic.model import AcousticConfig, AcousticModel
    from vaudio.cli import app

    phones = ["SP", "AP", "hh", "ax", "l", "ow", "s", "t", "aa", "r"]
    torch.manual_seed(0)
    config = AcousticConfig(
        phones=sorted(phones), hidden=16, filter_size=32, encoder_layers=1, decoder_layers=1,
        denoiser_channels=8, denoiser_layers=2, num_steps=10,
    )  # fmt: skip
    ckpt = AcousticModel(config).save_pretrained(tmp_path / "tiny")
    path = tmp_path / "song.musicxml"
    build_score().write("musicxml", str(path))
    out = tmp_path / "song.wav"
    result = CliRunner().invoke(
        app, ["synth", str(path), "-o", str(out), "--checkpoint", str(ckpt), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    import soundfile as sf

    assert sf.info(str(out)).duration == pytest.approx(0.3 + 2 / 3 * 3 + 2 / 3 + 2.0 + 0.3, abs=0.05)
