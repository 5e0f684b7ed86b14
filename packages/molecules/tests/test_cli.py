"""`vmol eval` and `vmol data qm9` end to end (CliRunner, in process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from vmol.cli import app
from vmol.io.molecules import Molecule, read_npz, write_sdf, write_xyz

runner = CliRunner()


def test_eval_json_on_hand_built(
    tmp_path: Path, three: list[Molecule], three_without_h: list[Molecule]
) -> None:
    path = tmp_path / "mols.sdf"
    write_sdf(path, three + three_without_h)
    ref = tmp_path / "ref.txt"
    ref.write_text("CCO\n")
    report_path = tmp_path / "report.json"
    result = runner.invoke(
        app, ["eval", str(path), "--json", "--reference", str(ref), "-o", str(report_path), "-q"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == json.loads(report_path.read_text())
    assert report["stability"]["stable_atoms"] == 17 + 11
    assert report["stability"]["atoms"] == 17 + 14
    assert report["stability"]["stable_molecules"] == 3
    assert report["molecules"] == 6
    assert report["validity"]["valid"] == 6
    assert report["validity"]["unique"] == 3
    assert report["validity"]["uniqueness"] == 0.5
    assert report["validity"]["novelty"] == pytest.approx(2 / 3)
    assert report["pgd"] is None
    assert "at least 20" in report["pgd_skipped"]


def test_eval_table(tmp_path: Path, three: list[Molecule]) -> None:
    path = tmp_path / "mols.xyz"
    write_xyz(path, three)
    result = runner.invoke(app, ["eval", str(path), "--no-pgd", "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"molecules: {path} (3 molecules, 17 atoms; bonds: table)")
    assert "atom stability       100.00 %   (17 / 17 atoms)" in lines
    assert lines[-2] == "novelty                   -   (no --reference)"
    assert lines[-1] == "PGD                       -   (--no-pgd)"


def test_eval_bad_input_exits_2_with_one_line(tmp_path: Path, three: list[Molecule]) -> None:
    path = tmp_path / "mols.xyz"
    write_xyz(path, three)
    text = path.read_text().splitlines()
    text[-1] = "H nan 0 0"
    path.write_text("\n".join(text) + "\n")
    result = runner.invoke(app, ["eval", str(path), "-q"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {path}:23: record 3: NaN coordinates"]
    result = runner.invoke(app, ["eval", str(tmp_path / "none.sdf"), "-q"])
    assert result.exit_code == 2
    assert "none.sdf: no such file" in result.stderr
    result = runner.invoke(app, ["eval", str(path), "--bonds", "guess", "-q"])
    assert result.exit_code == 2
    assert "--bonds must be one of table, rdkit" in result.stderr


def test_data_qm9_builds_folder_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vmol.data.qm9 as qm9

    sample = qm9.read_qm9pack(every=50)  # 2,619 molecules stand in for the full set (proportional split)
    monkeypatch.setattr(qm9, "load_qm9", lambda refresh=False: sample)
    out = tmp_path / "qm9"
    args = ["data", "qm9", "--out", str(out), "--seed", "0", "--max-train", "300", "--max-heavy-atoms", "8"]
    result = runner.invoke(app, [*args, "--json", "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert sorted(p.name for p in out.iterdir()) == sorted(manifest["files"])
    train, val, test = (read_npz(out / f"{s}.npz") for s in ("train", "val", "test"))
    assert manifest["splits"] == {"train": 300, "val": len(val), "test": len(test)}
    assert len(train) == 300
    assert max(m.heavy_atoms for m in train + val + test) <= 8
    assert not {m.index for m in train} & {m.index for m in test}
    ref_lines = (out / "train_smiles.txt").read_text().splitlines()
    assert ref_lines[0].startswith("# vmol reference SMILES")
    assert len(ref_lines) - 1 == manifest["reference_smiles"]["count"]
    assert manifest["split"]["reproduces_edm"] is True
    assert sum(manifest["train_n_atoms_histogram"].values()) == 300
    np.testing.assert_array_equal(
        train[0].numbers, next(m for m in sample if m.index == train[0].index).numbers
    )
    # same arguments, same bytes
    again = tmp_path / "again"
    assert runner.invoke(app, ["data", "qm9", "--out", str(again), *args[4:], "-q"]).exit_code == 0
    for name in ("train.npz", "val.npz", "test.npz", "train_smiles.txt"):
        assert (out / name).read_bytes() == (again / name).read_bytes()
    # eval on the written test split against the written reference
    result = runner.invoke(app, ["eval", str(out / "test.npz"), "--reference", str(out / "train_smiles.txt"),
                                 "--pgd-reference", str(out / "val.npz"), "--json", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["stability"]["atom_stability"] >= 0.99
    pgd = report["pgd"]  # only ~40 molecules per set here: too few for a tight estimate, see test_pgd.py
    assert 20 <= pgd["molecules_per_set"] <= min(report["validity"]["valid"], len(val))
    assert 0.0 <= pgd["pgd"] <= 1.0
    assert pgd["pgd"] == pgd["subscores"][pgd["descriptor"]]


def test_data_qm9_errors(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    result = runner.invoke(app, ["data", "qm9", "--out", str(file), "-q"])
    assert result.exit_code == 2
    assert "exists and is not a folder" in result.stderr
    result = runner.invoke(app, ["data", "qm9", "--out", str(tmp_path / "d"), "--max-train", "0", "-q"])
    assert result.exit_code == 2
    assert "--max-train must be at least 1, got 0" in result.stderr
