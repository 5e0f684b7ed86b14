"""Novelty against MOSES (`vmol.metrics.moses`): heavy-atom counts, the filtered exact comparison, the
installed molsets data, and `vmol eval --moses`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import vmol.metrics.moses as moses
from vcore.errors import UserError
from vmol.cli import app
from vmol.io.molecules import Molecule, write_xyz
from vmol.metrics.validity import canonical_smiles

MOSES_TRAIN_MOLECULES = 1_584_663  # MOSES paper, Table 1 (train split)
MOSES_FIRST = "CCCS(=O)c1ccc2[nH]c(=NC(=O)OC)[nH]c2c1"  # the first line of molsets 0.3.1's train.csv.gz


@pytest.mark.parametrize(
    ("smiles", "count"),
    [
        ("CCO", 3),
        ("ClCBr", 3),
        ("c1cc[nH]c1", 5),
        ("C[C@@H](N)C(=O)O", 6),
        ("[NH4+]", 1),
        ("[H][H]", 0),
        ("[2H]C([2H])([2H])[2H]", 1),
        ("[Hg]", 1),
        ("[H]", 0),
        ("FC(F)(F)I", 5),
        ("", 0),
    ],
)
def test_heavy_atom_count(smiles: str, count: int) -> None:
    assert moses.heavy_atom_count(smiles) == count


def test_novelty_against_matches_other_spellings_and_canonicalises_only_equal_sizes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def recording(smiles: str) -> str | None:
        seen.append(smiles)
        return canonical_smiles(smiles)

    monkeypatch.setattr(moses, "canonical_smiles", recording)
    unique = {"CCO", "c1ccccc1", "CC"}
    reference = ["OCC", "C1=CC=CC=C1", "CCC", "C1CC(", "CCCCCCCCCC"]
    result = moses.novelty_against(unique, reference, "test")
    assert (result.reference_molecules, result.unique, result.novel) == (5, 3, 1)  # only CC is novel
    assert result.novelty == pytest.approx(1 / 3)
    assert "CCCCCCCCCC" not in seen  # 10 heavy atoms: no generated molecule has 10
    assert set(seen) == {"OCC", "C1=CC=CC=C1", "CCC", "C1CC("}
    assert result.to_dict()["reference"] == "test"


def test_empty_generated_set_has_zero_novelty() -> None:
    result = moses.novelty_against(set(), ["CCO"], "test")
    assert (result.unique, result.novel, result.novelty) == (0, 0, 0.0)


def test_installed_moses_train_split() -> None:
    smiles = moses.read_moses_train()
    assert len(smiles) == MOSES_TRAIN_MOLECULES
    assert smiles[0] == MOSES_FIRST
    first = canonical_smiles(MOSES_FIRST)
    assert first is not None
    result = moses.moses_novelty({"CCO", first})
    assert (result.reference_molecules, result.unique, result.novel) == (MOSES_TRAIN_MOLECULES, 2, 1)


def test_missing_molsets_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match="pip install --no-deps molsets"):
        moses.moses_train_file()


def test_foreign_csv_is_rejected(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "train.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("smiles_x\nCCO\n")
    with pytest.raises(UserError, match="no 'SMILES' header"):
        moses.read_moses_train(path)
    path.write_bytes(b"not gzip")
    with pytest.raises(UserError, match="cannot read"):
        moses.read_moses_train(path)


def test_eval_moses_flag(tmp_path: Path, three: list[Molecule], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moses, "read_moses_train", lambda: ["OCC", "c1ccccc1", "N"])
    path = tmp_path / "mols.xyz"
    write_xyz(path, three)  # methane, water, ethanol
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(path), "--moses", "--no-pgd", "-q"])
    assert result.exit_code == 0, result.output
    assert (
        "novelty (MOSES)       66.67 %   (2 unique valid not among 3 MOSES training SMILES)" in result.stdout
    )
    result = runner.invoke(app, ["eval", str(path), "--moses", "--no-pgd", "--json", "-q"])
    report = json.loads(result.stdout)
    assert report["novelty_moses"]["novel"] == 2
    assert report["novelty_moses"]["reference_molecules"] == 3
    plain = json.loads(runner.invoke(app, ["eval", str(path), "--no-pgd", "--json", "-q"]).stdout)
    assert plain["novelty_moses"] is None

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    result = runner.invoke(app, ["eval", str(path), "--moses", "--no-pgd", "-q"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "pip install --no-deps molsets" in result.output
