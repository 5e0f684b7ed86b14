"""`vmol train edm`, `vmol sample` and `vmol nll` end to end on a tiny dataset (CliRunner, in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from vcore.io.checkpoint import WEIGHTS_NAME, read_weights
from vcore.train import EMA_NAME
from vmol.cli import app
from vmol.commands.checkpoint import load_edm
from vmol.commands.sample import should_compile
from vmol.io.molecules import Molecule, read_sdf, read_xyz, write_npz, write_sdf

runner = CliRunner()
TINY = [
    "--layers",
    "1",
    "--hidden",
    "8",
    "--timesteps",
    "10",
    "--batch-size",
    "4",
    "--log-every",
    "1",
    "--quiet",
    "--json",
]


@pytest.fixture
def data_dir(tmp_path: Path, three: list[Molecule]) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    write_npz(folder / "train.npz", three * 3)
    return folder


def test_train_resume_sample_nll(tmp_path: Path, data_dir: Path, three: list[Molecule]) -> None:
    ckpt = tmp_path / "edm"
    first = runner.invoke(
        app, ["train", "edm", "--data", str(data_dir), "--out", str(ckpt), "--max-steps", "3", *TINY]
    )
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["steps"] == 3
    again = runner.invoke(
        app, ["train", "edm", "--data", str(data_dir), "--out", str(ckpt), "--max-steps", "5", *TINY]
    )
    assert again.exit_code == 2
    assert "resume" in again.output
    resumed = runner.invoke(
        app,
        [
            *("train", "edm", "--data", str(data_dir), "--out", str(ckpt), "--max-steps", "5", "--resume"),
            *("--size-parts", "1", *TINY),  # the batch in one part, as on a GPU: the same losses
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["steps"] == 5
    run_ckpt = tmp_path / "edm.run" / "checkpoint"
    exported, averaged = read_weights(ckpt / WEIGHTS_NAME), read_weights(run_ckpt / EMA_NAME)
    assert all(torch.equal(exported[k], averaged[k]) for k in averaged)  # the average is what ships
    last = read_weights(run_ckpt / WEIGHTS_NAME)
    assert any(not torch.equal(last[k], averaged[k]) for k in averaged)
    assert all(torch.equal(p, averaged[k]) for k, p in load_edm(run_ckpt).state_dict().items())
    lines = (tmp_path / "edm.run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines if "loss" in json.loads(x)] == [1, 2, 3, 4, 5]

    out = tmp_path / "mols.sdf"
    sample = runner.invoke(
        app,
        [
            "sample",
            "-n",
            "3",
            "-o",
            str(out),
            "--checkpoint",
            str(ckpt),
            "--steps",
            "5",
            "--atoms",
            "4",
            "-q",
        ],
    )
    assert sample.exit_code == 0, sample.output
    assert [len(m) for m in read_sdf(out)] == [4, 4, 4]
    assert len(read_xyz(out.with_suffix(".xyz"))) == 3
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"

    mols = tmp_path / "three.sdf"
    write_sdf(mols, three)
    nll = runner.invoke(app, ["nll", str(mols), "--checkpoint", str(ckpt), "--json", "-q"])
    assert nll.exit_code == 0, nll.output
    report = json.loads(nll.stdout)
    assert report["molecules"] == 3
    # p(N): the training set holds each of the three sizes 3 times out of 9.
    assert report["per_molecule"][0]["neg_log_pn"] == pytest.approx(1.0986122886681098, rel=1e-9)


def test_bad_inputs_exit_2(
    tmp_path: Path, data_dir: Path, three: list[Molecule], monkeypatch: pytest.MonkeyPatch
) -> None:
    mols = tmp_path / "three.sdf"
    write_sdf(mols, three)
    monkeypatch.setattr("vmol.pretrained.DEFAULT_DIR", tmp_path / "no-default")  # an installation without one
    for args in (["sample", "-n", "2", "-o", str(tmp_path / "s.sdf")], ["nll", str(mols)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "ships no default vmol checkpoint: pass --checkpoint" in result.output
    missing = runner.invoke(
        app, ["train", "edm", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "c")]
    )
    assert missing.exit_code == 2
    assert "no such dataset folder" in missing.output
    parts = runner.invoke(
        app, ["train", "edm", "--data", str(data_dir), "--out", str(tmp_path / "c"), "--size-parts", "0"]
    )
    assert parts.exit_code == 2
    assert "--size-parts must be at least 1, got 0" in parts.output
    bad = runner.invoke(app, ["nll", str(mols), "--checkpoint", str(tmp_path / "nope")])
    assert bad.exit_code == 2
    assert "no such checkpoint folder" in bad.output
    zero = runner.invoke(app, ["sample", "-n", "0", "--checkpoint", str(tmp_path)])
    assert zero.exit_code == 2
    assert "-n must be at least 1" in zero.output


def test_compile_is_chosen_by_run_size_unless_asked() -> None:
    assert not should_compile(None, 16, 500)  # 8,000 molecule-steps
    assert should_compile(None, 32, 500)  # 16,000
    assert not should_compile(None, 1000, 10)
    assert should_compile(True, 1, 1)
    assert not should_compile(False, 10_000, 500)
