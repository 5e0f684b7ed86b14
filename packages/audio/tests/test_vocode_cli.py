"""`vaudio vocode` and `vaudio mel2wav` end to end, and every bad input ending in exit 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from vaudio.cli import app
from vaudio.features.mel import MelConfig, mel_spectrogram
from vaudio.io.audio import load_audio, save_audio
from vaudio.vocoder.choice import beats_griffin_lim, choose_vocoder
from vaudio.vocoder.diffwave import DiffWave, DiffWaveConfig

runner = CliRunner()


@pytest.fixture
def voice(tmp_path):
    t = np.arange(16000) / 16000
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * np.hanning(16000)
    save_audio(tmp_path / "in.wav", x.astype(np.float32), 16000)
    return tmp_path / "in.wav"


@pytest.fixture
def tiny_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = DiffWave(
        DiffWaveConfig(residual_channels=4, residual_layers=2, dilation_cycle=2, prior_gain=0.05)
    )
    return model.save_pretrained(tmp_path / "tiny")


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_vocode_with_griffin_lim_keeps_length(voice, tmp_path) -> None:
    result = runner.invoke(
        app, ["vocode", str(voice), "-o", str(tmp_path / "out.wav"), "--method", "griffin-lim"]
    )
    assert result.exit_code == 0, result.output
    out = load_audio(tmp_path / "out.wav", 16000)
    assert len(out) == (16000 // 256) * 256


def test_vocode_with_a_checkpoint_and_steps(voice, tiny_checkpoint, tmp_path) -> None:
    for steps in ("6", "10"):
        out = tmp_path / f"dw{steps}.wav"
        args = [
            "vocode",
            str(voice),
            "-o",
            str(out),
            "--checkpoint",
            str(tiny_checkpoint),
            "--steps",
            steps,
            "-q",
        ]
        assert runner.invoke(app, args).exit_code == 0
        assert sf.info(out).samplerate == 16000


def test_mel2wav(tmp_path, tiny_checkpoint) -> None:
    mel = mel_spectrogram(torch.rand(8000) - 0.5, MelConfig()).numpy()
    np.save(tmp_path / "m.npy", mel)
    result = runner.invoke(app, ["mel2wav", str(tmp_path / "m.npy"), "-o", str(tmp_path / "o.wav"), "-q"])
    assert result.exit_code == 0, result.output
    assert len(load_audio(tmp_path / "o.wav", 16000)) == mel.shape[1] * 256


def test_auto_uses_griffin_lim_and_says_why_without_a_default(tmp_path) -> None:
    choice = choose_vocoder("auto", None, folder=tmp_path / "none")
    assert choice.method == "griffin-lim"
    assert "no default" in choice.reason


def test_auto_follows_the_measured_scores(tmp_path, tiny_checkpoint) -> None:
    scores = {"diffwave": {"pesq": 2.0, "stoi": 0.9}, "griffin_lim": {"pesq": 2.5, "stoi": 0.85}}
    (tiny_checkpoint / "heldout.json").write_text(json.dumps(scores))
    assert not beats_griffin_lim(scores)
    choice = choose_vocoder("auto", None, folder=tiny_checkpoint)
    assert choice.method == "griffin-lim"
    assert "does not beat Griffin-Lim" in choice.reason
    scores["diffwave"]["pesq"] = 3.0
    (tiny_checkpoint / "heldout.json").write_text(json.dumps(scores))
    assert choose_vocoder("auto", None, folder=tiny_checkpoint).method == "diffwave"


def test_bad_inputs_exit_2_and_write_nothing(tmp_path, voice, tiny_checkpoint) -> None:
    out = tmp_path / "out.wav"
    (tmp_path / "text.wav").write_text("hello")
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    sf.write(tmp_path / "nan.wav", np.full(4000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    np.save(tmp_path / "bins.npy", np.zeros((64, 20), dtype=np.float32))
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "edm", "config": {}}))
    cases = {
        "missing": ["vocode", str(tmp_path / "nope.wav"), "-o", str(out)],
        "not audio": ["vocode", str(tmp_path / "text.wav"), "-o", str(out)],
        "empty": ["vocode", str(tmp_path / "empty.wav"), "-o", str(out)],
        "nan": ["vocode", str(tmp_path / "nan.wav"), "-o", str(out)],
        "wrong bins": ["mel2wav", str(tmp_path / "bins.npy"), "-o", str(out)],
        "not npy": ["mel2wav", str(tmp_path / "text.wav"), "-o", str(out)],
        "other model": ["vocode", str(voice), "-o", str(out), "--checkpoint", str(other)],
        "steps": [
            "vocode",
            str(voice),
            "-o",
            str(out),
            "--checkpoint",
            str(tiny_checkpoint),
            "--steps",
            "99",
        ],
        "method": ["vocode", str(voice), "-o", str(out), "--method", "wavenet"],
    }
    expected = {
        "missing": "no such audio file",
        "not audio": "not an audio file",
        "empty": "no samples",
        "nan": "NaN",
        "wrong bins": "expected a mel spectrogram of shape (80, frames)",
        "not npy": "not a numpy",
        "other model": "'edm' model, not 'diffwave'",
        "steps": "--steps",
        "method": "--method",
    }
    for name, args in cases.items():
        line = one_error_line(runner.invoke(app, args))
        assert expected[name] in line, (name, line)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("out")]


def test_eval_vocoder_scores_both_vocoders_per_group(tmp_path, tiny_checkpoint) -> None:
    corpus = tmp_path / "songs"
    (corpus / "wavs").mkdir(parents=True)
    t = np.arange(12000) / 16000
    items = []
    for k, voice in enumerate(("kal", "ked")):
        x = 0.3 * np.sin(2 * np.pi * (140 + 30 * k) * t) * np.hanning(len(t))
        save_audio(corpus / "wavs" / f"s{k}.wav", x.astype(np.float32), 16000)
        items.append({"id": f"s{k}", "split": "test", "voice": voice, "wav": f"wavs/s{k}.wav"})
    (corpus / "manifest.json").write_text(json.dumps({"items": items}))
    out = tmp_path / "heldout.json"
    args = [
        "eval-vocoder",
        "--data",
        str(corpus),
        "--checkpoint",
        str(tiny_checkpoint),
        "--no-arctic",
        "-o",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["files"] == 2
    assert set(report["groups"]) == {"songs/kal", "songs/ked"}
    assert {"pesq", "stoi", "mcd_db", "lsd_db", "mrstft"} <= set(report["griffin_lim"])
    assert report["griffin_lim"]["stoi"] > report["diffwave"]["stoi"]  # an untrained DiffWave makes noise
    assert beats_griffin_lim(report) is False
