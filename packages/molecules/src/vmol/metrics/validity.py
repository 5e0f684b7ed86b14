"""Validity, uniqueness and novelty of 3D molecules, as in EDM (`qm9/rdkit_functions.py`, Hoogeboom et al. 2022).

A molecule is turned into an RDKit graph from its geometry alone:

- `table` (default, EDM): bonds and orders from EDM's distance table (`vmol.metrics.bonds`);
- `rdkit`: `rdkit.Chem.rdDetermineBonds.DetermineBonds(mol, charge=0)` (connectivity from covalent radii,
  orders from Kim & Kim's xyz2mol), without chirality; a failure there makes the molecule invalid.

It is valid when `Chem.SanitizeMol` succeeds on the whole graph (atoms carry implicit hydrogens as in EDM,
so a carbon that lost a hydrogen is still valid, though not stable). Its SMILES is then the canonical RDKit
SMILES of the largest fragment (most atoms, hydrogens included, as EDM), written without explicit hydrogen
atoms and without stereo (`isomericSmiles=False`; geometry-built graphs carry none). Uniqueness is
|unique SMILES| / |valid|; novelty |unique SMILES not in the reference| / |unique|; EDM's reference is the
training set, built the same way (`vmol data qm9` writes it as train_smiles.txt).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vcore.errors import UserError
from vmol.io.molecules import Molecule
from vmol.metrics.bonds import bond_orders

logger = logging.getLogger(__name__)

BondMethod = Literal["table", "rdkit"]
BOND_METHODS: tuple[str, ...] = ("table", "rdkit")
REFERENCE_HEADER = "# vmol reference SMILES: canonical RDKit {version}, heavy atoms, no stereo"


def _rdkit_version() -> str:
    from rdkit import rdBase

    return str(rdBase.rdkitVersion)


def build_graph(mol: Molecule, bonds: BondMethod = "table") -> Any | None:
    """The unsanitized RDKit RWMol of a molecule's atoms and inferred bonds; None when `rdkit` bond
    determination fails (an invalid molecule)."""
    from rdkit import Chem, rdBase

    rw = Chem.RWMol()
    for z in mol.numbers:
        rw.AddAtom(Chem.Atom(int(z)))
    if bonds == "table":
        orders = bond_orders(mol.numbers, mol.positions)
        types = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
        for i, j in zip(*np.nonzero(np.triu(orders, 1)), strict=True):
            rw.AddBond(int(i), int(j), types[int(orders[i, j])])
        return rw
    if bonds == "rdkit":
        from rdkit.Chem import rdDetermineBonds
        from rdkit.Geometry import Point3D

        conf = Chem.Conformer(len(mol))
        for k, (x, y, w) in enumerate(mol.positions):
            conf.SetAtomPosition(k, Point3D(float(x), float(y), float(w)))
        rw.AddConformer(conf, assignId=True)
        try:
            with rdBase.BlockLogs():
                rdDetermineBonds.DetermineBonds(rw, charge=0, embedChiral=False)
        except (ValueError, RuntimeError):
            return None
        return rw
    raise ValueError(f"unknown bond method {bonds!r}; expected one of {', '.join(BOND_METHODS)}")


def sanitized_largest_fragment(mol: Molecule, bonds: BondMethod = "table") -> Any | None:
    """The sanitized RDKit Mol of the largest fragment, or None when the molecule is invalid."""
    from rdkit import Chem, rdBase

    graph = build_graph(mol, bonds)
    if graph is None:
        return None
    with rdBase.BlockLogs():
        try:
            Chem.SanitizeMol(graph)
        except (ValueError, RuntimeError):  # RDKit's sanitization errors derive from ValueError
            return None
        frags = Chem.GetMolFrags(graph, asMols=True, sanitizeFrags=False)
        largest = max(frags, default=graph, key=lambda m: m.GetNumAtoms())
        try:
            Chem.SanitizeMol(largest)
        except (ValueError, RuntimeError):
            return None
    return largest


def mol_to_smiles(rdmol: Any) -> str:
    """Canonical RDKit SMILES without explicit hydrogen atoms and without stereo."""
    from rdkit import Chem

    return str(Chem.MolToSmiles(Chem.RemoveHs(rdmol), isomericSmiles=False))


def molecule_smiles(mol: Molecule, bonds: BondMethod = "table") -> str | None:
    """The canonical SMILES of a valid molecule's largest fragment; None for an invalid molecule."""
    frag = sanitized_largest_fragment(mol, bonds)
    return None if frag is None else mol_to_smiles(frag)


def canonical_smiles(smiles: str) -> str | None:
    """`smiles` in vmol's canonical form (heavy atoms, no stereo); None when RDKit cannot parse it."""
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        rdmol = Chem.MolFromSmiles(smiles)
    return None if rdmol is None else str(Chem.MolToSmiles(rdmol, isomericSmiles=False))


@dataclass(frozen=True)
class ValidityResult:
    """Counts behind validity, uniqueness and novelty; novelty is None without a reference."""

    molecules: int
    valid: int
    unique: int
    novel: int | None

    @property
    def validity(self) -> float:
        return self.valid / self.molecules if self.molecules else 0.0

    @property
    def uniqueness(self) -> float:
        return self.unique / self.valid if self.valid else 0.0

    @property
    def novelty(self) -> float | None:
        if self.novel is None:
            return None
        return self.novel / self.unique if self.unique else 0.0

    @property
    def valid_and_unique(self) -> float:
        """|unique valid| / |all|, EDM's "Valid x Unique"."""
        return self.unique / self.molecules if self.molecules else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "molecules": self.molecules,
            "valid": self.valid,
            "unique": self.unique,
            "novel": self.novel,
            "validity": self.validity,
            "uniqueness": self.uniqueness,
            "valid_and_unique": self.valid_and_unique,
            "novelty": self.novelty,
        }


def validity_from_smiles(smiles: Sequence[str | None], reference: set[str] | None = None) -> ValidityResult:
    """Validity/uniqueness/novelty from per-molecule SMILES (None = invalid) and optional reference SMILES."""
    valid = [s for s in smiles if s is not None]
    unique = set(valid)
    novel = None if reference is None else sum(1 for s in unique if s not in reference)
    return ValidityResult(len(smiles), len(valid), len(unique), novel)


def validity(
    molecules: Sequence[Molecule], reference: set[str] | None = None, bonds: BondMethod = "table"
) -> ValidityResult:
    """EDM validity, uniqueness and (with a reference) novelty of 3D molecules."""
    return validity_from_smiles([molecule_smiles(m, bonds) for m in molecules], reference)


def format_reference(smiles: Iterable[str]) -> str:
    """The text of a reference SMILES file: a header naming the RDKit version, then sorted unique SMILES."""
    body = "\n".join(sorted(set(smiles)))
    return REFERENCE_HEADER.format(version=_rdkit_version()) + "\n" + body + ("\n" if body else "")


def write_reference(path: str | os.PathLike[str], smiles: Iterable[str]) -> Path:
    """Write a reference SMILES file (e.g. train_smiles.txt) atomically."""
    from vcore.io.atomic import atomic_write_text

    return atomic_write_text(path, format_reference(smiles))


def read_reference(path: str | os.PathLike[str]) -> set[str]:
    """Reference SMILES, one per line ('#' lines are comments; a second column, e.g. a name, is ignored).

    A file written by `write_reference` with this RDKit version is taken as is; any other file is
    canonicalised line by line, and a line RDKit cannot parse is an error naming file:line.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such reference SMILES file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read it as text ({err})") from None
    trusted = bool(lines) and lines[0].strip() == REFERENCE_HEADER.format(version=_rdkit_version())
    if not trusted:
        logger.info("%s: canonicalising %d reference SMILES with RDKit", path, len(lines))
    out: set[str] = set()
    for k, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        token = text.split()[0]
        if trusted:
            out.add(token)
            continue
        canon = canonical_smiles(token)
        if canon is None:
            raise UserError(f"{path}:{k}: RDKit cannot parse the SMILES {token[:60]!r}")
        out.add(canon)
    if not out:
        raise UserError(f"{path}: no SMILES in this reference file")
    return out


def reference_smiles(
    molecules: Sequence[Molecule],
    bonds: BondMethod = "table",
    include_source: bool = True,
    progress: bool = False,
) -> set[str]:
    """The novelty reference of a training set: each valid molecule's SMILES built from its geometry (as EDM
    builds its training SMILES) and, with `include_source`, its source SMILES (QM9's) in canonical form."""
    from tqdm import tqdm

    out: set[str] = set()
    for mol in tqdm(molecules, desc="reference SMILES", unit="mol", disable=not progress, leave=False):
        built = molecule_smiles(mol, bonds)
        if built is not None:
            out.add(built)
        if include_source and mol.smiles:
            canon = canonical_smiles(mol.smiles)
            if canon is not None:
                out.add(canon)
    return out
