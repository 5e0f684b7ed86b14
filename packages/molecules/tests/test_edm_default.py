"""The shipped default checkpoint: it loads, its card is there, and `vmol sample` uses it without --checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from vmol.cli import app
from vmol.io.molecules import read_sdf
from vmol.pretrained import DEFAULT_DIR, default_checkpoint

runner = CliRunner()


def test_default_checkpoint_ships_with_its_card() -> None:
    folder = default_checkpoint()
    assert (folder / "MODEL_CARD.md").is_file()
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "vmol-edm"
    assert config["config"]["atom_types"] == [1, 6, 7, 8, 9]
    size = sum(p.stat().st_size for p in DEFAULT_DIR.iterdir())
    assert size < 20 * 2**20  # the limit for a shipped checkpoint


def test_sample_without_checkpoint_uses_the_default(tmp_path: Path) -> None:
    out = tmp_path / "mols.sdf"
    result = runner.invoke(
        app,
        [
            "sample",
            "-n",
            "3",
            "--steps",
            "5",
            "--atoms",
            "9",
            "--seed",
            "1",
            "-o",
            str(out),
            "--quiet",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["checkpoint"] == "default"
    assert summary["compiled"] is False  # 15 molecule-steps do not repay a compile
    molecules = read_sdf(out)
    assert len(molecules) == 3
    for mol in molecules:
        assert len(mol) == 9
        assert np.isfinite(mol.positions).all()
        assert set(mol.numbers.tolist()) <= {1, 6, 7, 8, 9}
