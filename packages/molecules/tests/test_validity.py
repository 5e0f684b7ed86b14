"""Validity, uniqueness and novelty (EDM's protocol) on molecules with known answers, and the reference file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vcore.errors import UserError
from vmol.io.molecules import Molecule
from vmol.metrics.validity import (
    canonical_smiles,
    molecule_smiles,
    read_reference,
    reference_smiles,
    validity,
    write_reference,
)


@pytest.mark.parametrize("bonds", ["table", "rdkit"])
def test_hand_built_molecules_are_valid(three: list[Molecule], bonds: str) -> None:
    assert [molecule_smiles(m, bonds) for m in three] == ["C", "O", "CCO"]
    result = validity(three, bonds=bonds)
    assert (result.molecules, result.valid, result.unique, result.novel) == (3, 3, 3, None)
    assert result.validity == 1.0
    assert result.uniqueness == 1.0
    assert result.novelty is None


def test_duplicates_halve_uniqueness(three: list[Molecule]) -> None:
    result = validity(three + three)
    assert (result.valid, result.unique) == (6, 3)
    assert result.uniqueness == 0.5
    assert result.valid_and_unique == 0.5


def test_novelty_against_reference(three: list[Molecule]) -> None:
    assert validity(three, reference={"C", "O", "CCO", "CC"}).novelty == 0.0
    assert validity(three, reference={"CC"}).novelty == 1.0
    result = validity(three + three, reference={"C"})
    assert (result.novel, result.unique) == (2, 3)
    assert result.novelty == pytest.approx(2 / 3)


def test_pentavalent_carbon_is_invalid(hand_built: dict[str, Molecule]) -> None:
    methane = hand_built["methane"]
    extra_h = np.array([[0.0, 0.0, 1.09]])  # a fifth H 1.09 A from C (~0.7-1.1 A from the others)
    bad = Molecule(np.append(methane.numbers, 1), np.vstack([methane.positions, extra_h]))
    assert molecule_smiles(bad) is None
    result = validity([bad, methane])
    assert (result.valid, result.validity, result.unique) == (1, 0.5, 1)


def test_missing_hydrogen_is_valid_under_edm_but_not_rdkit(three_without_h: list[Molecule]) -> None:
    # EDM's graphs let RDKit add implicit hydrogens: CH3 + implicit H is methane again.
    assert [molecule_smiles(m) for m in three_without_h] == ["C", "O", "CCO"]
    # rdDetermineBonds with charge 0 cannot place an odd electron count: invalid.
    assert [molecule_smiles(m, "rdkit") for m in three_without_h] == [None, None, None]


def test_largest_fragment_is_kept(hand_built: dict[str, Molecule]) -> None:
    ethanol, water = hand_built["ethanol"], hand_built["water"]
    both = Molecule(
        np.concatenate([water.numbers, ethanol.numbers]),
        np.vstack([water.positions + 10.0, ethanol.positions]),
    )
    assert molecule_smiles(both) == "CCO"


def test_canonical_smiles_drops_stereo_and_hydrogens() -> None:
    assert canonical_smiles("OCC") == "CCO"
    assert canonical_smiles("[H]OC([H])([H])C") == "CCO"
    assert canonical_smiles("C[C@H](N)O") == "CC(N)O"
    assert canonical_smiles("not smiles") is None


def test_reference_file_round_trip(tmp_path: Path) -> None:
    path = write_reference(tmp_path / "ref.txt", ["CCO", "C", "CCO"])
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# vmol reference SMILES: canonical RDKit ")
    assert lines[1:] == ["C", "CCO"]
    assert read_reference(path) == {"C", "CCO"}


def test_foreign_reference_is_canonicalised(tmp_path: Path) -> None:
    path = tmp_path / "ref.smi"
    path.write_text("OCC ethanol\n\n# comment\nC[C@H](N)O\n")
    assert read_reference(path) == {"CCO", "CC(N)O"}
    path.write_text("CCO\nC1CC\n")
    with pytest.raises(UserError, match=r"ref\.smi:2: RDKit cannot parse the SMILES 'C1CC'"):
        read_reference(path)
    path.write_text("# nothing\n")
    with pytest.raises(UserError, match=r"ref\.smi: no SMILES in this reference file"):
        read_reference(path)
    with pytest.raises(UserError, match=r"missing\.txt: no such reference SMILES file"):
        read_reference(tmp_path / "missing.txt")


def test_reference_smiles_unites_geometry_and_source(three: list[Molecule]) -> None:
    assert reference_smiles(three) == {"C", "O", "CCO"}
    odd = Molecule(three[0].numbers, three[0].positions, "OC", 0)  # source SMILES disagrees with geometry
    assert reference_smiles([odd]) == {"C", "CO"}
    assert reference_smiles([odd], include_source=False) == {"C"}


def test_validity_on_real_qm9() -> None:
    """EDM: 97.7% of QM9's own molecules are valid; every 130th molecule of qm9pack (1008)."""
    from vmol.data.qm9 import read_qm9pack

    result = validity(read_qm9pack(every=130))
    assert (result.valid, result.unique, result.molecules) == (989, 989, 1008)  # 98.1%
