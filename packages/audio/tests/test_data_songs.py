"""The singing corpus: Festival's quirks measured and corrected, phrases planned deterministically and split
by melody, rendered phrases that sing their notes in time, and `vaudio data songs` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from vaudio.cli import app
from vaudio.data.corpus import split_for
from vaudio.data.festival import (
    Segment,
    clean_segments,
    festival_bpm,
    festival_note_name,
    render,
    singing_xml,
)
from vaudio.data.melodies import Melody, MelodyNote, MelodyRef, melody_catalog
from vaudio.data.song_labels import note_cents_error
from vaudio.data.song_plan import (
    MIN_NOTE_SECONDS,
    PAD_SECONDS,
    PHRASE_SECONDS,
    VOICE_RANGE,
    cut_phrases,
    fit_melody,
    plan_songs,
)
from vaudio.data.words import one_syllable_words
from vaudio.features.world import extract_f0
from vaudio.score.ds import read_ds

needs_festival = pytest.mark.skipif(shutil.which("text2wave") is None, reason="festival is not installed")
runner = CliRunner()
HOURS = "0.01"  # one melody: 2 phrases x 2 voices, about 35 s of audio


def _melody(k: int, bars: int = 16, rest_every: int = 4) -> Melody:
    """A synthetic 4/4 tune: quarter notes C4..G4, a half rest closing every `rest_every` bars."""
    notes = []
    for bar in range(bars):
        if bar % rest_every == rest_every - 1:
            notes += [MelodyNote(60 + k % 5, 1.0, bar_start=True), MelodyNote(62, 1.0), MelodyNote(None, 2.0)]
        else:
            notes += [MelodyNote(60 + (bar + i) % 8, 1.0, bar_start=i == 0) for i in range(4)]
    return Melody(MelodyRef("essenFolksong/synthetic.abc", number=k), f"tune {k}", tuple(notes))


def test_festival_names_and_tempo_are_corrected() -> None:
    assert festival_note_name(69) == "A5"  # sounds at 440 Hz in Festival
    assert festival_note_name(45) == "A3"
    assert festival_note_name(61) == "C#5"
    assert festival_bpm(60.0) == pytest.approx(50.0)
    xml = singing_xml([(None, 0.5), (57, 1.0), (None, 0.5)], ["la"], 90.0)
    assert '<SINGING BPM="75.000000">' in xml
    assert '<DURATION BEATS="1.000000"><PITCH NOTE="A4">la</PITCH></DURATION>' in xml
    with pytest.raises(ValueError, match="consecutive rests"):
        singing_xml([(None, 0.5), (None, 0.5), (57, 1.0)], ["la"], 90.0)


@needs_festival
def test_festival_quirks_are_real() -> None:
    """Uncorrected, Festival's "A4" at BPM 60 sings 220 Hz (A3) and two beats last 2 * 50 / 60 s."""
    xml = (
        '<?xml version="1.0"?>\n<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" '
        '"Singing.v0_1.dtd" []>\n<SINGING BPM="60"><DURATION BEATS="2"><PITCH NOTE="A4">la</PITCH>'
        "</DURATION></SINGING>\n"
    )
    samples, segments = render(xml, "kal")
    assert segments[-1].end == pytest.approx(2 * 50 / 60, abs=1e-3)
    f0, _ = extract_f0(samples, 16000)
    assert abs(1200 * np.log2(np.median(f0[f0 > 0]) / 220.0)) < 30


@needs_festival
def test_short_notes_keep_the_total_time() -> None:
    """Festival shifts a syllable early by its onset (0.1 s for "g") only when that is under half the note
    before: 0.2 s notes made the phones outlast the score by 0.1 s, MIN_NOTE_SECONDS notes do not."""
    words = ["big", "go", "dog", "get", "bag", "good"]

    def overrun(seconds: float) -> float:
        notes = [(None, 0.5)] + [(52, seconds)] * len(words) + [(None, 0.5)]
        _, segments = render(singing_xml(notes, words, 60.0), "kal")
        return segments[-1].end - (1.0 + seconds * len(words))

    assert overrun(0.2) > 0.09
    assert abs(overrun(MIN_NOTE_SECONDS)) < 1e-3


def test_clean_segments_drops_zero_length_pauses() -> None:
    segs = [
        Segment("pau", 0.0, 0.3, 0, False),
        Segment("pau", 0.3, 0.3, 0, False),
        Segment("l", 0.3, 0.38, 1, False),
        Segment("aa", 0.38, 1.0, 1, True),
        Segment("pau", 1.0, 1.00001, 0, False),
        Segment("pau", 1.00001, 1.4, 0, False),
        Segment("pau", 1.4, 1.4, 0, False),
    ]
    out = clean_segments(segs)
    assert [(s.name, s.start, s.end) for s in out] == [
        ("pau", 0.0, 0.3),
        ("l", 0.3, 0.38),
        ("aa", 0.38, 1.0),
        ("pau", 1.0, 1.4),
    ]


def test_word_list_is_one_syllable_words() -> None:
    words = one_syllable_words()
    assert len(words) > 2000
    assert list(words) == sorted(set(words))
    assert {"love", "sun", "the", "night"} <= set(words)
    assert not {"sex", "water", "river", "uh", "de"} & set(words)


def test_fit_melody_range_and_tempo() -> None:
    rng = np.random.default_rng(0)
    melody = _melody(0)
    for _ in range(20):
        fitted = fit_melody(melody, rng)
        assert fitted is not None
        shift, bpm = fitted
        assert VOICE_RANGE[0] <= min(melody.pitches) + shift
        assert max(melody.pitches) + shift <= VOICE_RANGE[1]
        assert 60 <= bpm <= 120
    wide = Melody(melody.ref, "wide", (MelodyNote(40, 1.0), MelodyNote(70, 1.0)))
    assert fit_melody(wide, rng) is None
    fast = Melody(melody.ref, "fast", (MelodyNote(60, 0.25), MelodyNote(62, 1.0)))
    fitted = fit_melody(fast, rng)
    assert fitted is not None
    assert 60 * 0.25 / fitted[1] >= MIN_NOTE_SECONDS  # a 16th note lasts >= 0.21 s
    assert fit_melody(Melody(melody.ref, "32nds", (MelodyNote(60, 0.125),)), rng) is None


def test_cut_phrases_at_rests_within_5_to_15_seconds() -> None:
    melody = _melody(0, bars=24)
    phrases = cut_phrases(melody.notes, 100.0, np.random.default_rng(1))
    assert len(phrases) >= 3
    for phrase in phrases:
        seconds = sum(n.beats for n in phrase) * 60 / 100.0
        assert PHRASE_SECONDS[0] <= seconds <= PHRASE_SECONDS[1]
        assert phrase[0].midi is None
        assert phrase[-1].midi is None
        assert phrase[0].beats * 60 / 100 == pytest.approx(PAD_SECONDS)
        assert phrase[1].midi is not None
        assert phrase[-2].midi is not None
        # cuts fall at the rests (every 4 bars): each phrase ends on the note before a rest (D4 = 62)
        assert phrase[-2].midi == 62


def _synthetic_plan(seed: int, hours: float) -> list:
    refs = [MelodyRef("essenFolksong/synthetic.abc", number=k) for k in range(60)]
    return plan_songs(
        seed, hours, ["kal", "ked"], one_syllable_words(), refs, lambda r: _melody(r.number or 0)
    )


def test_split_by_melody() -> None:
    assert [split_for(k) for k in range(20)].count("train") == 18
    assert split_for(3) == split_for(23) == "val"
    assert split_for(13) == "test"
    items = _synthetic_plan(0, 0.9)
    by_melody: dict[str, set[str]] = {}
    for it in items:
        by_melody.setdefault(it.phrase.melody.id, set()).add(it.split)
    assert all(len(splits) == 1 for splits in by_melody.values())
    assert {s for splits in by_melody.values() for s in splits} == {"train", "val", "test"}
    voices = {(it.phrase.melody.id, it.phrase.index): set() for it in items}
    for it in items:
        voices[(it.phrase.melody.id, it.phrase.index)].add(it.voice)
    assert all(v == {"kal", "ked"} for v in voices.values())
    total = sum(it.phrase.duration for it in items)
    assert 0.85 * 3600 < total <= 0.9 * 3600


def test_plan_is_deterministic_and_grows_with_hours() -> None:
    words = one_syllable_words()
    a = plan_songs(5, 0.03, ["kal", "ked"], words)
    b = plan_songs(5, 0.03, ["kal", "ked"], words)
    key = [(it.id, it.words, it.phrase.notes, it.phrase.bpm, it.split) for it in a]
    assert key == [(it.id, it.words, it.phrase.notes, it.phrase.bpm, it.split) for it in b]
    assert len({it.words for it in a}) == len(a)  # every voice sings its own words
    longer = plan_songs(5, 0.06, ["kal", "ked"], words)
    assert [it.id for it in longer[: len(a)]] == [it.id for it in a]
    assert [it.id for it in plan_songs(6, 0.03, ["kal", "ked"], words)] != [it.id for it in a]
    assert melody_catalog(5)[:4] == melody_catalog(5)[:4] != melody_catalog(6)[:4]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("text2wave") is None:
        pytest.skip("festival is not installed")
    out = tmp_path_factory.mktemp("songs")
    result = runner.invoke(app, ["data", "songs", "--out", str(out), "--hours", HOURS, "--seed", "0", "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_cli_end_to_end_and_resume(corpus: Path) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text())
    items = manifest["items"]
    assert len(items) == 4
    assert {it["voice"] for it in items} == {"kal", "ked"}
    assert manifest["failed"] == []
    assert manifest["hours"] <= float(HOURS)
    assert sum(s["items"] for s in manifest["splits"].values()) == 4
    for it in items:
        assert set(it) >= {"id", "split", "voice", "melody", "wav", "ds", "duration"}
        assert sf.info(str(corpus / it["wav"])).samplerate == 16000
        assert read_ds(corpus / it["ds"])[0].duration == pytest.approx(it["duration"], abs=1e-4)
    assert not list(corpus.rglob(".*tmp-*"))
    before = (corpus / "manifest.json").read_text()
    again = runner.invoke(app, ["data", "songs", "--out", str(corpus), "--hours", HOURS, "--seed", "0"])
    assert again.exit_code == 0, again.output
    assert "rendered 0, kept 4, failed 0" in again.stdout
    assert (corpus / "manifest.json").read_text() == before


@pytest.mark.parametrize("voice", ["kal", "ked"])
def test_rendered_phrase_sings_its_notes(corpus: Path, voice: str) -> None:
    """Median |F0 - note| <= 30 cents on the voiced frames of each rendered phrase of the voice."""
    items = [it for it in json.loads((corpus / "manifest.json").read_text())["items"] if it["voice"] == voice]
    assert items
    for it in items:
        segment = read_ds(corpus / it["ds"])[0]
        f0 = np.load(corpus / it["f0"]).astype(np.float64)
        cents = note_cents_error(f0, segment)
        assert cents.size > 0.5 * segment.duration / 0.005 * 0.6  # most note frames are voiced
        assert np.median(cents) <= 30.0, it["id"]
        assert "pau" not in segment.ph_seq
        assert min(segment.ph_dur) >= 1e-3


def test_durations_agree_with_the_score(corpus: Path) -> None:
    """wav length = sum(ph_dur) = sum(note_dur) = the score's length at the planned tempo."""
    items = plan_songs(0, float(HOURS), ["kal", "ked"], one_syllable_words())
    for item in items:
        segment = read_ds(corpus / "ds" / f"{item.id}.ds")[0]
        assert segment.note_dur is not None
        frames = sf.info(str(corpus / "wavs" / f"{item.id}.wav")).frames
        assert frames == pytest.approx(segment.duration * 16000, abs=1)
        assert sum(segment.note_dur) == pytest.approx(segment.duration, abs=1e-5)
        assert segment.duration == pytest.approx(item.phrase.duration, abs=0.01)
        score_onsets = np.cumsum([0.0] + [item.phrase.seconds(n.beats) for n in item.phrase.notes])[:-1]
        # a note starts at its vowel: up to 0.1 s before the score (Festival's onset shift) and after it by
        # the onset consonants (up to three, about 0.08 s each)
        assert np.abs(segment.note_onsets() - score_onsets).max() < 0.3
        assert segment.text == item.text
        assert segment.note_seq == item.note_names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hours", "0"], "error: --hours must be > 0, got 0.0"),
        (["--hours", "0.01", "--voices", "bob"], "error: unknown Festival voice 'bob'; choose from kal, ked"),
        (["--hours", "0.01", "--jobs", "0"], "error: --jobs must be at least 1, got 0"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["data", "songs", "--out", str(tmp_path / "c"), *args])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [message]


def test_unwritable_out_and_missing_festival(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("x")
    result = runner.invoke(app, ["data", "songs", "--out", str(tmp_path / "file"), "--hours", "0.01"])
    assert result.exit_code == 2
    assert "exists and is not a folder" in result.stderr
    result = runner.invoke(app, ["data", "songs", "--out", str(tmp_path / "file" / "sub"), "--hours", "0.01"])
    assert result.exit_code == 2
    assert "cannot write to the output folder" in result.stderr
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(app, ["data", "songs", "--out", str(tmp_path / "c"), "--hours", "0.01"])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "error: festival is not installed (text2wave not found): apt install festival"
    )
