"""Where `vmol train edm` takes its model from: `--init` (weights and architecture, p(N) recounted) or, on
`--resume`, the run's checkpoint; and its learning-rate schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from vmol.cli import app
from vmol.commands.checkpoint import load_edm
from vmol.io.molecules import Molecule, write_npz

runner = CliRunner()
SMALL = ["--batch-size", "4", "--log-every", "1", "--quiet", "--json"]


def write_data(folder: Path, molecules: list[Molecule]) -> Path:
    folder.mkdir()
    write_npz(folder / "train.npz", molecules)
    return folder


def train(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["train", "edm", *args, *SMALL])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def init_model(tmp_path: Path, three: list[Molecule]) -> Path:
    """A 3-step model of 1 layer x 8, T = 10, trained on methane, water and ethanol."""
    data = write_data(tmp_path / "three", three * 3)
    out = tmp_path / "init"
    train("--data", str(data), "--out", str(out), "--max-steps", "3", "--layers", "1", "--hidden", "8")
    (tmp_path / "init.run" / "checkpoint" / "ema.safetensors").unlink()  # the run folder is not needed
    return out


def test_warm_start_copies_weights_and_architecture_and_recounts_atoms(
    tmp_path: Path, three: list[Molecule], init_model: Path
) -> None:
    methane = three[0]
    data = write_data(tmp_path / "methane", [methane, methane])
    out = tmp_path / "warm"
    # lr 0: AdamW leaves the weights where they start, so the export is the init model's weights exactly.
    train("--data", str(data), "--out", str(out), "--init", str(init_model), "--max-steps", "1", "--lr", "0")
    source, warm = load_edm(init_model), load_edm(out)
    assert (warm.config.layers, warm.config.hidden, warm.config.timesteps) == (1, 8, 500)
    assert all(torch.equal(p, source.state_dict()[k]) for k, p in warm.state_dict().items())
    assert warm.config.n_nodes_counts == (0, 0, 0, 0, 0, 2)  # methane's 5 atoms, twice
    assert source.config.n_nodes_counts == (0, 0, 0, 3, 0, 3, 0, 0, 0, 3)

    moved = tmp_path / "moved"
    train("--data", str(data), "--out", str(moved), "--init", str(init_model), "--max-steps", "2")
    assert any(not torch.equal(p, source.state_dict()[k]) for k, p in load_edm(moved).state_dict().items())


def test_init_default_is_the_shipped_model(
    tmp_path: Path, three: list[Molecule], init_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vmol.pretrained.DEFAULT_DIR", init_model)
    monkeypatch.chdir(tmp_path)  # no folder named "default" here
    data = write_data(tmp_path / "again", three)
    summary = train(
        "--data", str(data), "--out", str(tmp_path / "w"), "--init", "default", "--max-steps", "1"
    )
    assert summary["steps"] == 1
    assert load_edm(tmp_path / "w").config.layers == 1


def test_linear_schedule_warms_up_and_decays_to_zero(tmp_path: Path, three: list[Molecule]) -> None:
    data = write_data(tmp_path / "three", three * 3)
    tiny = ["--layers", "1", "--hidden", "8", "--timesteps", "10", "--lr", "0.001"]
    train("--data", str(data), "--out", str(tmp_path / "m"), "--max-steps", "6", *tiny,
          "--warmup-steps", "2", "--lr-schedule", "linear")  # fmt: skip
    lines = [json.loads(x) for x in (tmp_path / "m.run" / "metrics.jsonl").read_text().splitlines()]
    lrs = [x["lr"] for x in lines if "loss" in x]
    # the update from step s to s + 1 uses (s + 1) / 2 while s < 2, then 1 - (s - 2) / 4
    assert lrs == pytest.approx([5e-4, 1e-3, 1e-3, 7.5e-4, 5e-4, 2.5e-4])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--layers", "2"],
            "--layers 2 differs from the --init model's 1; leave it out to keep the --init model's",
        ),
        (["--timesteps", "10"], "--timesteps 10 differs from the --init model's 500"),
    ],
)
def test_init_with_another_architecture_exits_2(
    tmp_path: Path, three: list[Molecule], init_model: Path, args: list[str], message: str
) -> None:
    data = write_data(tmp_path / "d", three)
    result = runner.invoke(
        app,
        ["train", "edm", "--data", str(data), "--out", str(tmp_path / "o"), "--init", str(init_model), *args],
    )
    assert result.exit_code == 2
    assert message in result.output


def test_bad_init_and_schedule_exit_2(tmp_path: Path, three: list[Molecule]) -> None:
    data = write_data(tmp_path / "d", three)
    base = ["train", "edm", "--data", str(data), "--out", str(tmp_path / "o")]
    for args, message in (
        (["--init", str(tmp_path / "nope")], "no such checkpoint folder"),
        (["--lr-schedule", "step"], "--lr-schedule must be constant, cosine or linear, got 'step'"),
        (["--warmup-steps", "-1"], "--warmup-steps must be non-negative, got -1"),
    ):
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 2, args
        assert message in result.output


def test_resume_keeps_the_run_architecture(tmp_path: Path, three: list[Molecule]) -> None:
    data = write_data(tmp_path / "three", three * 3)
    sizes = ["--layers", "1", "--hidden", "8", "--timesteps", "10"]
    train("--data", str(data), "--out", str(tmp_path / "m"), "--max-steps", "2", *sizes)
    summary = train("--data", str(data), "--out", str(tmp_path / "m"), "--max-steps", "3", "--resume")
    assert summary["steps"] == 3
    assert load_edm(tmp_path / "m").config.hidden == 8
    other = runner.invoke(
        app,
        ["train", "edm", "--data", str(data), "--out", str(tmp_path / "m"), "--resume", "--hidden", "16"],
    )
    assert other.exit_code == 2
    assert "--hidden 16 differs from the run's checkpoint's 8" in other.output
