"""The espeak-ng speech corpus: deterministic sentences and voices, `vaudio data speech` end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from vaudio.cli import app
from vaudio.data.espeak import VOICES
from vaudio.data.sentences import sentence
from vaudio.data.speech import plan_speech

runner = CliRunner()


def test_sentences_and_plan_are_deterministic() -> None:
    assert sentence(0, 4) == sentence(0, 4) != sentence(1, 4)
    texts = [sentence(0, k) for k in range(200)]
    assert len(set(texts)) > 190
    assert all(t[0].isupper() and t[-1] in ".?!" for t in texts)
    assert not any(" a a" in t or " a e" in t or " a i" in t for t in texts)  # "an eager", not "a eager"
    plan = plan_speech(0, 60)
    assert plan == plan_speech(0, 60)
    assert {it.voice for it in plan} <= set(VOICES)
    assert len({it.voice for it in plan}) >= 8
    assert [it.split for it in plan].count("val") == 3
    assert [it.split for it in plan].count("test") == 3


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_cli_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "speech"
    result = runner.invoke(
        app, ["data", "speech", "--out", str(out), "--sentences", "4", "--seed", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [it["id"] for it in manifest["items"]] == [it.id for it in plan_speech(1, 4)]
    for it in manifest["items"]:
        info = sf.info(str(out / it["wav"]))
        assert info.samplerate == 16000
        assert info.duration == pytest.approx(it["duration"], abs=1e-3)
        assert 0.8 < it["duration"] < 8
        assert (out / it["text_file"]).read_text().strip() == it["text"]
    result = runner.invoke(app, ["data", "speech", "--out", str(out), "--sentences", "0"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --sentences must be at least 1, got 0"
