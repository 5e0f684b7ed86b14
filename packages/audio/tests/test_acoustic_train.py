"""`vaudio train acoustic`: a tiny model on a tiny corpus trains, resumes and exports a finalized model."""

from __future__ import annotations

import json

import numpy as np
import torch
from typer.testing import CliRunner

from vaudio.acoustic.model import AcousticModel
from vaudio.cli import app
from vaudio.io.audio import save_audio
from vaudio.score.ds import DsSegment, write_ds

TINY = ["--hidden", "16", "--filter-size", "32", "--encoder-layers", "1", "--decoder-layers", "1",
        "--channels", "8", "--layers", "2", "--batch-size", "2", "--crop-frames", "32", "--threads", "1"]  # fmt: skip


def make_corpus(folder) -> None:
    (folder / "wavs").mkdir(parents=True)
    (folder / "ds").mkdir()
    items = []
    rng = np.random.default_rng(0)
    for k in range(4):
        midi = 50 + k
        hz = 440 * 2 ** ((midi - 69) / 12)
        seconds = 1.2
        t = np.arange(int(seconds * 16000)) / 16000
        audio = 0.3 * np.sin(2 * np.pi * hz * t) + 0.01 * rng.standard_normal(t.size)
        voice = "kal" if k % 2 else "ked"
        item = f"song{k}-p00-{voice}"
        save_audio(folder / "wavs" / f"{item}.wav", audio.astype(np.float32), 16000)
        segment = DsSegment(
            ph_seq=["SP", "l", "aa", "SP"], ph_dur=[0.22, 0.08, 0.6, 0.3], ph_num=[2, 1, 1],
            note_seq=["rest", "D3", "rest"], note_dur=[0.3, 0.6, 0.3], note_slur=[0, 0, 0],
            f0_seq=np.full(240, hz), f0_timestep=0.005,
        )  # fmt: skip
        write_ds(folder / "ds" / f"{item}.ds", [segment])
        split = "val" if k == 3 else "train"
        items.append(
            {"id": item, "split": split, "voice": voice, "wav": f"wavs/{item}.wav", "ds": f"ds/{item}.ds"}
        )
    (folder / "manifest.json").write_text(json.dumps({"items": items}))


def test_train_resume_and_export(tmp_path) -> None:
    make_corpus(tmp_path / "songs")
    out = tmp_path / "model"
    args = ["train", "acoustic", "--data", str(tmp_path / "songs"), "--out", str(out), *TINY, "--quiet"]
    first = CliRunner().invoke(app, [*args, "--max-steps", "2", "--log-every", "1", "--eval-every", "2"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, [*args, "--max-steps", "2"])
    assert again.exit_code == 2
    assert "resume" in again.output
    resumed = CliRunner().invoke(
        app, [*args, "--max-steps", "4", "--resume", "--log-every", "1", "--eval-every", "2", "--json"]
    )
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.output[resumed.output.index("{") :])
    assert summary["steps"] == 4
    records = [
        json.loads(line) for line in (tmp_path / "model.run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4]
    assert any("eval/val_vlb" in r for r in records)
    model = AcousticModel.from_pretrained(out)
    assert model.config.phones == ["AP", "SP", "aa", "l"]
    assert 1 <= model.config.boundary_k <= model.config.num_steps
    assert model.config.boundary["k"] == model.config.boundary_k
    assert model.config.pitch_model["phone_seconds"] == {"l": 0.08}
    assert not torch.isnan(next(model.parameters())).any()


def test_warm_start_copies_weights_and_extends_the_phone_set(tmp_path) -> None:
    from vaudio.acoustic.model import AcousticConfig
    from vaudio.acoustic.train import warm_start

    make_corpus(tmp_path / "songs")
    tiny = {"hidden": 16, "filter_size": 32, "encoder_layers": 1, "decoder_layers": 1,
            "denoiser_channels": 8, "denoiser_layers": 2}  # fmt: skip
    torch.manual_seed(0)
    source = AcousticModel(AcousticConfig(phones=["AP", "SP", "aa"], **tiny))  # type: ignore[arg-type]
    source.save_pretrained(tmp_path / "init")
    target = AcousticModel(AcousticConfig(phones=["AP", "SP", "aa", "l"], **tiny))  # type: ignore[arg-type]
    before = target.encoder.embed.weight[4].clone()
    warm_start(target, tmp_path / "init")
    torch.testing.assert_close(target.encoder.embed.weight[1:4], source.encoder.embed.weight[1:4])
    torch.testing.assert_close(target.encoder.embed.weight[4], before)  # "l" is new: keeps its own row
    torch.testing.assert_close(target.denoiser.inp.weight, source.denoiser.inp.weight)
