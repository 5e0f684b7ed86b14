"""Molecules as atomic numbers + 3D positions, read from and written to SDF, XYZ and vmol's .npz.

A `Molecule` is what the EDM pipeline sees (Hoogeboom et al. 2022): atom types and Cartesian coordinates in
Angstrom, hydrogens included. Bonds are not part of it: the metrics infer them from distances
(`vmol.metrics.bonds`), so bonds stored in an SDF file are ignored on reading.

Formats
- SDF (V2000 or V3000 mol blocks separated by `$$$$`): read with RDKit, `removeHs=False, sanitize=False`, so
  raw generated molecules with impossible valences still load. Each record's atom block is checked first
  (element symbols, finite coordinates) so that a bad record is reported by number and line instead of
  RDKit's stack trace. Written with RDKit, 3D coordinates and the bonds of EDM's distance table.
- XYZ (one or more records: atom count, comment line, `Symbol x y z` lines; a number instead of a symbol is
  read as the atomic number; extra columns are ignored).
- .npz (vmol's dataset format, `vmol data qm9`): `numbers` int8 [A], `positions` float64 [A, 3],
  `n_atoms` int32 [M], `index` int64 [M] and `smiles` str [M] for M molecules with A atoms in all.

Every problem a user can cause is a `vcore.errors.UserError` naming the file and record (records count from
1), e.g. "mols.sdf: record 3 (line 31): NaN coordinates".
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcore.errors import UserError

ELEMENTS = (
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
    "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr",
    "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe",
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf",
    "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th",
    "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs",
    "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
)  # fmt: skip
"""Element symbols by atomic number - 1."""

ATOMIC_NUMBERS = {symbol: z for z, symbol in enumerate(ELEMENTS, start=1)}
_HYDROGEN_ISOTOPES = {"D": 1, "T": 1}  # accepted by RDKit's mol-file reader as hydrogen


@dataclass(frozen=True, eq=False)
class Molecule:
    """One molecule: atomic numbers int [n], positions float64 [n, 3] in Angstrom, optional SMILES and index.

    `index` is the molecule's number in its source (QM9's gdb index for QM9, the record number from 0 for
    files); `smiles` is the source's SMILES when it has one (QM9), else None.
    """

    numbers: np.ndarray
    positions: np.ndarray
    smiles: str | None = None
    index: int = -1

    def __len__(self) -> int:
        return int(self.numbers.shape[0])

    @property
    def symbols(self) -> list[str]:
        return [symbol_of(int(z)) for z in self.numbers]

    @property
    def heavy_atoms(self) -> int:
        return int(np.count_nonzero(self.numbers != 1))


def symbol_of(z: int) -> str:
    """The element symbol of atomic number z (1..118)."""
    if not 1 <= z <= len(ELEMENTS):
        raise ValueError(f"no element with atomic number {z}")
    return ELEMENTS[z - 1]


def atomic_number(token: str) -> int | None:
    """The atomic number of an element symbol (any case: 'CL', 'cl' and 'Cl' are chlorine) or of a number
    string such as '6'; None when the token is neither."""
    token = token.strip()
    if token.isdigit():
        z = int(token)
        return z if 1 <= z <= len(ELEMENTS) else None
    return ATOMIC_NUMBERS.get(token[:1].upper() + token[1:].lower())


def make_molecule(
    numbers: Sequence[int] | np.ndarray,
    positions: Sequence[Sequence[float]] | np.ndarray,
    smiles: str | None = None,
    index: int = -1,
    where: str = "molecule",
) -> Molecule:
    """A checked `Molecule`: at least one atom, known elements, finite positions of shape [n, 3]."""
    z = np.asarray(numbers, dtype=np.int64).reshape(-1)
    x = np.asarray(positions, dtype=np.float64)
    if z.size == 0:
        raise UserError(f"{where}: molecule with no atoms")
    if x.shape != (z.size, 3):
        raise UserError(f"{where}: positions must have shape [{z.size}, 3], got {list(x.shape)}")
    if ((z < 1) | (z > len(ELEMENTS))).any():
        bad = int(z[(z < 1) | (z > len(ELEMENTS))][0])
        raise UserError(f"{where}: unknown element with atomic number {bad}")
    if not np.isfinite(x).all():
        kind = "NaN" if np.isnan(x).any() else "Inf"
        raise UserError(f"{where}: {kind} coordinates")
    return Molecule(numbers=z, positions=x, smiles=smiles, index=index)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder, expected a molecule file")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UserError(f"{path}: cannot read it ({err.strerror or err})") from None
    if b"\0" in raw:
        raise UserError(f"{path}: not a text file (binary content)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# --- XYZ ---------------------------------------------------------------------------------------------------


def read_xyz(path: str | os.PathLike[str]) -> list[Molecule]:
    """All records of a (multi-record) XYZ file; `index` is the record number from 0."""
    path = Path(path)
    lines = _read_text(path).splitlines()
    molecules: list[Molecule] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        record = len(molecules) + 1
        where = f"{path}:{i + 1}: record {record}"
        head = lines[i].split()
        if len(head) != 1 or not head[0].isdigit():
            raise UserError(f"{where}: expected the atom count, got {lines[i].strip()[:40]!r}")
        n = int(head[0])
        if n == 0:
            raise UserError(f"{where}: molecule with no atoms")
        if i + 2 + n > len(lines):
            raise UserError(f"{where}: file ends before the record's {n} atom lines")
        numbers = np.empty(n, dtype=np.int64)
        positions = np.empty((n, 3), dtype=np.float64)
        for k in range(n):
            line_no = i + 2 + k  # 0-based index of the atom line
            fields = lines[line_no].split()
            at = f"{path}:{line_no + 1}: record {record}"
            if len(fields) < 4:
                raise UserError(f"{at}: expected 'Symbol x y z', got {lines[line_no].strip()[:40]!r}")
            z = atomic_number(fields[0])
            if z is None:
                raise UserError(f"{at}: unknown element symbol {fields[0]!r}")
            try:
                xyz = [float(v) for v in fields[1:4]]
            except ValueError:
                raise UserError(f"{at}: coordinates are not numbers: {' '.join(fields[1:4])!r}") from None
            if not all(math.isfinite(v) for v in xyz):
                kind = "NaN" if any(math.isnan(v) for v in xyz) else "Inf"
                raise UserError(f"{at}: {kind} coordinates")
            numbers[k] = z
            positions[k] = xyz
        molecules.append(Molecule(numbers, positions, None, record - 1))
        i += 2 + n
    if not molecules:
        raise UserError(f"{path}: no molecules in this XYZ file")
    return molecules


def format_xyz(molecules: Sequence[Molecule], comments: Sequence[str] | None = None) -> str:
    """XYZ text of the molecules (coordinates with 8 decimals); comment lines default to index and SMILES."""
    out: list[str] = []
    for k, mol in enumerate(molecules):
        if comments is not None:
            comment = comments[k]
        else:
            comment = f"index={mol.index}" + (f" smiles={mol.smiles}" if mol.smiles else "")
        out.append(str(len(mol)))
        out.append(comment.replace("\n", " "))
        for z, (x, y, w) in zip(mol.numbers, mol.positions, strict=True):
            out.append(f"{symbol_of(int(z)):<2} {x:15.8f} {y:15.8f} {w:15.8f}")
    return "\n".join(out) + "\n"


def write_xyz(path: str | os.PathLike[str], molecules: Sequence[Molecule]) -> Path:
    """Write the molecules as one multi-record XYZ file, atomically."""
    from vcore.io.atomic import atomic_write_text

    return atomic_write_text(path, format_xyz(molecules))


# --- SDF ---------------------------------------------------------------------------------------------------


def _split_sdf(text: str) -> list[tuple[int, str]]:
    """(first line number from 1, mol block text) of each record; blank trailing records are dropped."""
    records: list[tuple[int, str]] = []
    lines = text.splitlines()
    start = 0
    for k, line in enumerate([*lines, "$$$$"]):
        if line.strip() == "$$$$":
            block = lines[start:k]
            if any(b.strip() for b in block):
                records.append((start + 1, "\n".join(block) + "\n"))
            start = k + 1
    return records


def _check_atom_block(block: str, where: str, first_line: int) -> None:
    """Check element symbols and coordinates of a V2000 or V3000 atom block before RDKit sees it.

    RDKit prints a stack trace for unknown elements; this names the line instead. Data after `M  END`
    (SD fields) is not looked at.
    """
    lines = block.splitlines()
    if len(lines) < 4:
        raise UserError(f"{where}: not a mol block (fewer than 4 lines)")
    counts = lines[3]
    atoms: list[tuple[int, str, list[str]]] = []  # (line number, symbol, coordinate fields)
    if "V3000" in counts:
        inside = False
        for k, line in enumerate(lines[4:], start=4):
            text = line.strip()
            if text.startswith("M  V30 BEGIN ATOM"):
                inside = True
            elif text.startswith("M  V30 END ATOM"):
                break
            elif inside and text.startswith("M  V30"):
                fields = text.split()
                if len(fields) >= 6:
                    atoms.append((first_line + k, fields[3], fields[4:7]))
    else:
        try:
            n_atoms = int(counts[0:3])
        except ValueError:
            raise UserError(f"{where}: line {first_line + 3}: cannot read the atom count") from None
        if n_atoms == 0:
            raise UserError(f"{where}: molecule with no atoms")
        if len(lines) < 4 + n_atoms:
            raise UserError(f"{where}: record ends before its {n_atoms} atom lines")
        for k in range(4, 4 + n_atoms):
            line = lines[k]
            atoms.append((first_line + k, line[31:34].strip(), [line[0:10], line[10:20], line[20:30]]))
    for line_no, symbol, coords in atoms:
        if symbol not in ATOMIC_NUMBERS and symbol not in _HYDROGEN_ISOTOPES:
            raise UserError(f"{where} (line {line_no}): unknown element symbol {symbol!r}")
        try:
            values = [float(c) for c in coords]
        except ValueError:
            raise UserError(
                f"{where} (line {line_no}): coordinates are not numbers: {' '.join(coords)!r}"
            ) from None
        if len(values) != 3:
            raise UserError(f"{where} (line {line_no}): expected 3 coordinates")
        if not all(math.isfinite(v) for v in values):
            kind = "NaN" if any(math.isnan(v) for v in values) else "Inf"
            raise UserError(f"{where} (line {line_no}): {kind} coordinates")


def read_sdf(path: str | os.PathLike[str]) -> list[Molecule]:
    """All records of an SDF file (RDKit, removeHs=False, sanitize=False); `index` is the record number from
    0 and `smiles` is None (bonds in the file are not used)."""
    from rdkit import Chem, rdBase

    path = Path(path)
    records = _split_sdf(_read_text(path))
    if not records:
        raise UserError(f"{path}: no molecules in this SDF file")
    molecules: list[Molecule] = []
    for k, (first_line, block) in enumerate(records):
        where = f"{path}: record {k + 1}"
        _check_atom_block(block, where, first_line)
        with rdBase.BlockLogs():
            mol = Chem.MolFromMolBlock(block, sanitize=False, removeHs=False)
        if mol is None:
            raise UserError(f"{where} (line {first_line}): RDKit cannot parse this mol block")
        if mol.GetNumAtoms() == 0:
            raise UserError(f"{where}: molecule with no atoms")
        if mol.GetNumConformers() == 0:
            raise UserError(f"{where}: no coordinates")
        numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=np.int64)
        if (numbers == 0).any():
            raise UserError(f"{where}: atom {int(np.flatnonzero(numbers == 0)[0]) + 1} is not an element")
        positions = np.asarray(mol.GetConformer().GetPositions(), dtype=np.float64)
        molecules.append(make_molecule(numbers, positions, None, k, where))
    return molecules


def to_rdkit(mol: Molecule, bonds: bool = True) -> Any:
    """An RDKit Mol with the atoms, a 3D conformer and (with `bonds`) the bonds of EDM's distance table.

    Not sanitized: it holds whatever the geometry says, valid or not.
    """
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    from vmol.metrics.validity import build_graph

    rw: Any
    if bonds:
        rw = build_graph(mol, "table")
    else:
        rw = Chem.RWMol()
        for z in mol.numbers:
            rw.AddAtom(Chem.Atom(int(z)))
    conf = Chem.Conformer(len(mol))
    for k, (x, y, w) in enumerate(mol.positions):
        conf.SetAtomPosition(k, Point3D(float(x), float(y), float(w)))
    conf.Set3D(True)
    rw.AddConformer(conf, assignId=True)
    out = rw.GetMol()
    out.UpdatePropertyCache(strict=False)
    return out


def format_sdf(molecules: Sequence[Molecule], bonds: bool = True) -> str:
    """SDF text: one V2000 record per molecule with 3D coordinates, bonds from the distance table (with
    `bonds`), the title `index=<index>` and an SD field `smiles` when the molecule has one."""
    from rdkit import Chem

    out: list[str] = []
    for mol in molecules:
        rd = to_rdkit(mol, bonds=bonds)
        rd.SetProp("_Name", f"index={mol.index}")
        block = Chem.MolToMolBlock(rd, kekulize=False)
        out.append(block)
        if mol.smiles:
            out.append(f">  <smiles>\n{mol.smiles}\n\n")
        out.append("$$$$\n")
    return "".join(out)


def write_sdf(path: str | os.PathLike[str], molecules: Sequence[Molecule], bonds: bool = True) -> Path:
    """Write the molecules as one SDF file with 3D coordinates, atomically."""
    from vcore.io.atomic import atomic_write_text

    return atomic_write_text(path, format_sdf(molecules, bonds=bonds))


# --- .npz ----------------------------------------------------------------------------------------------------


def pack_molecules(molecules: Sequence[Molecule]) -> dict[str, np.ndarray]:
    """The arrays of vmol's .npz format (see the module docstring)."""
    n_atoms = np.array([len(m) for m in molecules], dtype=np.int32)
    numbers = (
        np.concatenate([m.numbers for m in molecules]).astype(np.int8) if molecules else np.zeros(0, np.int8)
    )
    positions = (
        np.concatenate([m.positions for m in molecules]).astype(np.float64)
        if molecules
        else np.zeros((0, 3), np.float64)
    )
    return {
        "numbers": numbers,
        "positions": positions,
        "n_atoms": n_atoms,
        "index": np.array([m.index for m in molecules], dtype=np.int64),
        "smiles": np.array([m.smiles or "" for m in molecules], dtype=np.str_),
    }


def unpack_molecules(arrays: dict[str, np.ndarray], where: str = "arrays") -> list[Molecule]:
    """Molecules from the arrays of `pack_molecules`, with consistency checks."""
    missing = [k for k in ("numbers", "positions", "n_atoms") if k not in arrays]
    if missing:
        raise UserError(f"{where}: missing array(s) {', '.join(missing)} (not a vmol molecule .npz)")
    n_atoms = np.asarray(arrays["n_atoms"], dtype=np.int64)
    numbers = np.asarray(arrays["numbers"], dtype=np.int64)
    positions = np.asarray(arrays["positions"], dtype=np.float64)
    if (n_atoms < 1).any():
        raise UserError(f"{where}: record {int(np.flatnonzero(n_atoms < 1)[0]) + 1}: molecule with no atoms")
    if int(n_atoms.sum()) != numbers.shape[0] or positions.shape != (numbers.shape[0], 3):
        raise UserError(f"{where}: n_atoms, numbers and positions do not agree in size")
    m = n_atoms.shape[0]
    index = np.asarray(arrays["index"], dtype=np.int64) if "index" in arrays else np.arange(m)
    smiles = arrays["smiles"] if "smiles" in arrays else np.array([""] * m)
    if ((numbers < 1) | (numbers > len(ELEMENTS))).any():
        bad = int(np.flatnonzero((numbers < 1) | (numbers > len(ELEMENTS)))[0])
        raise UserError(f"{where}: atom {bad}: unknown element with atomic number {int(numbers[bad])}")
    if not np.isfinite(positions).all():
        atom = int(np.flatnonzero(~np.isfinite(positions).all(axis=1))[0])
        record = int(np.searchsorted(np.cumsum(n_atoms), atom, side="right")) + 1
        raise UserError(f"{where}: record {record}: NaN or Inf coordinates")
    offsets = np.concatenate([[0], np.cumsum(n_atoms)])
    return [
        Molecule(
            numbers[offsets[k] : offsets[k + 1]],
            positions[offsets[k] : offsets[k + 1]],
            str(smiles[k]) or None,
            int(index[k]),
        )
        for k in range(m)
    ]


def write_npz(path: str | os.PathLike[str], molecules: Sequence[Molecule], compress: bool = True) -> Path:
    """Write the molecules in vmol's .npz format, atomically."""
    from vcore.io.atomic import atomic_file

    path = Path(path)
    with atomic_file(path) as tmp, open(tmp, "wb") as handle:
        save: Any = np.savez_compressed if compress else np.savez
        save(handle, **pack_molecules(molecules))
    return path


def read_npz(path: str | os.PathLike[str]) -> list[Molecule]:
    """Molecules from a vmol .npz file (a `vmol data qm9` split or `write_npz` output)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: cannot read it as .npz ({err})") from None
    return unpack_molecules(arrays, str(path))


# --- dispatch ----------------------------------------------------------------------------------------------

READERS = {".sdf": read_sdf, ".sd": read_sdf, ".mol": read_sdf, ".xyz": read_xyz, ".npz": read_npz}


def read_molecules(path: str | os.PathLike[str]) -> list[Molecule]:
    """Molecules from an .sdf/.sd/.mol, .xyz or vmol .npz file (chosen by the file name's suffix)."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise UserError(f"{path}: unknown molecule file type {path.suffix!r} (expected .sdf, .xyz or .npz)")
    return reader(path)


def write_molecules(path: str | os.PathLike[str], molecules: Sequence[Molecule]) -> Path:
    """Write molecules as .sdf, .xyz or .npz (by suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".sdf", ".sd"):
        return write_sdf(path, molecules)
    if suffix == ".xyz":
        return write_xyz(path, molecules)
    if suffix == ".npz":
        return write_npz(path, molecules)
    raise UserError(f"{path}: unknown molecule file type {path.suffix!r} (expected .sdf, .xyz or .npz)")
