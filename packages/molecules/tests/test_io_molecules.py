"""vmol.io.molecules: SDF/XYZ/npz round trips and one-line errors naming the record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vcore.errors import UserError
from vmol.io.molecules import (
    Molecule,
    atomic_number,
    format_xyz,
    read_molecules,
    read_npz,
    read_sdf,
    read_xyz,
    to_rdkit,
    write_molecules,
    write_npz,
    write_sdf,
    write_xyz,
)


def _same(a: list[Molecule], b: list[Molecule], atol: float) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.numbers, y.numbers)
        np.testing.assert_allclose(x.positions, y.positions, atol=atol, rtol=0)


def test_atomic_number_tokens() -> None:
    assert [atomic_number(t) for t in ("C", "cl", "CL", "Cl", "6", "0", "Xq", "119")] == [
        6, 17, 17, 17, 6, None, None, None
    ]  # fmt: skip


def test_xyz_round_trip(tmp_path: Path, three: list[Molecule]) -> None:
    path = write_xyz(tmp_path / "m.xyz", three)
    back = read_xyz(path)
    _same(three, back, atol=5e-9)
    assert [m.index for m in back] == [0, 1, 2]
    assert path.read_text().splitlines()[0] == "5"


def test_sdf_round_trip_ignores_file_bonds(tmp_path: Path, three: list[Molecule]) -> None:
    path = write_sdf(tmp_path / "m.sdf", three)
    back = read_sdf(path)
    _same(three, back, atol=5e-5)  # mol blocks keep 4 decimals
    text = path.read_text()
    assert text.count("$$$$") == 3
    assert "<smiles>" in text
    assert "CCO" in text
    counts = text.splitlines()[3]
    assert counts[:6] == "  5  4"  # methane: 5 atoms, 4 bonds from the distance table


def test_npz_round_trip_is_exact(tmp_path: Path, three: list[Molecule]) -> None:
    path = write_npz(tmp_path / "m.npz", three)
    back = read_npz(path)
    _same(three, back, atol=0.0)
    assert [m.smiles for m in back] == ["C", "O", "CCO"]
    assert [m.index for m in back] == [0, 1, 2]


def test_dispatch_by_suffix(tmp_path: Path, three: list[Molecule]) -> None:
    for suffix in (".sdf", ".xyz", ".npz"):
        path = write_molecules(tmp_path / f"m{suffix}", three)
        assert [len(m) for m in read_molecules(path)] == [5, 3, 9]
    with pytest.raises(UserError, match=r"m\.pdb: unknown molecule file type '\.pdb'"):
        read_molecules(tmp_path / "m.pdb")


def test_rdkit_molecule_has_3d_conformer_and_bonds(three: list[Molecule]) -> None:
    mol = to_rdkit(three[2])
    assert mol.GetNumAtoms() == 9
    assert mol.GetNumBonds() == 8
    assert mol.GetConformer().Is3D()


def _xyz(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mols.xyz"
    path.write_text(text)
    return path


GOOD = "3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + "2\nbad\nXq 0 0 0\nH 1 0 0\n", r"mols\.xyz:8: record 2: unknown element symbol 'Xq'"),
        (GOOD + "2\nnan\nC 0 0 0\nH nan 0 0\n", r"mols\.xyz:9: record 2: NaN coordinates"),
        ("1\ninf\nC inf 0 0\n", r"mols\.xyz:3: record 1: Inf coordinates"),
        (GOOD + "0\nempty\n", r"mols\.xyz:6: record 2: molecule with no atoms"),
        ("3\ncut\nO 0 0 0\n", r"mols\.xyz:1: record 1: file ends before the record's 3 atom lines"),
        ("water\n", r"mols\.xyz:1: record 1: expected the atom count"),
        ("1\nx\nC 0 0 zero\n", r"mols\.xyz:3: record 1: coordinates are not numbers"),
        ("\n\n", r"mols\.xyz: no molecules in this XYZ file"),
    ],
)
def test_xyz_errors_name_the_record(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        read_xyz(_xyz(tmp_path, text))


def _sdf_with(tmp_path: Path, three: list[Molecule], record: int, old: str, new: str) -> Path:
    """An SDF of the three molecules twice (6 records) with `old` -> `new` once in record `record` (from 1)."""
    path = tmp_path / "mols.sdf"
    write_sdf(path, three + three)
    blocks = path.read_text().split("$$$$\n")
    blocks[record - 1] = blocks[record - 1].replace(old, new, 1)
    path.write_text("$$$$\n".join(blocks))
    return path


def test_sdf_nan_coordinates_name_record_and_line(tmp_path: Path, three: list[Molecule]) -> None:
    path = tmp_path / "mols.sdf"
    write_sdf(path, three)
    lines = path.read_text().splitlines()
    start = [0] + [k + 1 for k, line in enumerate(lines) if line == "$$$$"]
    atom_line = start[2] + 4  # first atom line of record 3
    lines[atom_line] = "       nan" + lines[atom_line][10:]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError) as info:
        read_sdf(path)
    assert str(info.value) == f"{path}: record 3 (line {atom_line + 1}): NaN coordinates"


def test_sdf_unknown_element(tmp_path: Path, three: list[Molecule]) -> None:
    path = _sdf_with(tmp_path, three, 2, " O ", " Xq")
    with pytest.raises(UserError, match=r"mols\.sdf: record 2 \(line \d+\): unknown element symbol 'Xq'"):
        read_sdf(path)


def test_sdf_molecule_without_atoms(tmp_path: Path) -> None:
    path = tmp_path / "mols.sdf"
    path.write_text(
        "empty\n     RDKit          3D\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n"
    )
    with pytest.raises(UserError, match=r"mols\.sdf: record 1: molecule with no atoms"):
        read_sdf(path)


def test_sdf_dummy_atom_is_rejected(tmp_path: Path, three: list[Molecule]) -> None:
    path = _sdf_with(tmp_path, three, 1, " C ", " * ")
    with pytest.raises(UserError, match=r"record 1 \(line 5\): unknown element symbol '\*'"):
        read_sdf(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a molecule file\n", r"mols\.sdf: record 1: not a mol block"),
        (b"\x00\x01\x02binary", r"mols\.sdf: not a text file"),
        (b"", r"mols\.sdf: no molecules in this SDF file"),
    ],
)
def test_sdf_unreadable(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "mols.sdf"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        read_sdf(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.sdf: no such file"):
        read_molecules(tmp_path / "nope.sdf")
    (tmp_path / "d.xyz").mkdir()
    with pytest.raises(UserError, match=r"d\.xyz: is a folder"):
        read_molecules(tmp_path / "d.xyz")


def test_npz_checks(tmp_path: Path, three: list[Molecule]) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, points=np.zeros((2, 3)))
    with pytest.raises(UserError, match=r"bad\.npz: missing array\(s\) numbers, positions, n_atoms"):
        read_npz(path)
    bad = [three[0], Molecule(three[1].numbers, three[1].positions * np.nan, None, 1)]
    write_npz(path, bad)
    with pytest.raises(UserError, match=r"bad\.npz: record 2: NaN or Inf coordinates"):
        read_npz(path)


def test_format_xyz_comment_lines(three: list[Molecule]) -> None:
    lines = format_xyz(three[:1]).splitlines()
    assert lines[:2] == ["5", "index=0 smiles=C"]
    assert lines[2].split()[0] == "C"
    assert len(lines) == 7
