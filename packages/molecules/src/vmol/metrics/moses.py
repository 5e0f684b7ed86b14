"""Novelty against MOSES's training set (Polykovskiy et al. 2020, "Molecular Sets (MOSES)", PyPI `molsets`).

MOSES's training split holds 1,584,663 drug-like SMILES (ZINC clean leads, 250-350 Da). The data ships
inside the `molsets` wheel, which must be installed with ``pip install --no-deps molsets`` (its pinned
pomegranate does not build); the CSV is read where `importlib.util.find_spec` finds the package, without
importing it (importing pulls in torch models, fcd_torch and pomegranate).

A generated SMILES is novel when no MOSES molecule has the same canonical form (`canonical_smiles`: heavy
atoms, no stereo, this RDKit version). Canonicalising 1.6M SMILES takes minutes, so only the MOSES
molecules whose heavy-atom count (read off the SMILES text, `heavy_atom_count`) equals some generated
molecule's are canonicalised: two SMILES of one molecule always have the same count, so the result is
exactly that of canonicalising them all.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcore.errors import UserError
from vmol.metrics.validity import canonical_smiles

INSTALL_HINT = "pip install --no-deps molsets==0.3.1"
TRAIN_CSV = Path("dataset") / "data" / "train.csv.gz"

# An atom of a SMILES string: a bracket atom, or one of the organic subset (two-letter halogens first).
_ATOM = re.compile(r"\[[^\]]*\]|Br|Cl|[BCNOSPFI]|[bcnosp]")
# A bracket atom that is a hydrogen ([H], [2H], [H+]; not [Hg], [He], [Ho]).
_HYDROGEN = re.compile(r"\[\d*H(?![a-z])")


def heavy_atom_count(smiles: str) -> int:
    """The number of non-hydrogen atoms written in `smiles` (implicit and bracket-counted H excluded)."""
    return sum(1 for atom in _ATOM.findall(smiles) if not _HYDROGEN.match(atom))


def moses_train_file() -> Path:
    """The installed MOSES training CSV; UserError naming the install command when molsets is absent."""
    spec = importlib.util.find_spec("moses")
    if spec is None or spec.origin is None:
        raise UserError(f"novelty against MOSES needs its data: {INSTALL_HINT}")
    path = Path(spec.origin).parent / TRAIN_CSV
    if not path.is_file():
        raise UserError(f"{path}: missing; the installed 'moses' is not molsets 0.3.1 ({INSTALL_HINT})")
    return path


def read_moses_train(path: Path | None = None) -> list[str]:
    """MOSES's training SMILES as written in its CSV (header 'SMILES', one molecule per line)."""
    path = moses_train_file() if path is None else path
    try:
        with gzip.open(path, "rt", encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as err:
        raise UserError(f"{path}: cannot read MOSES's training SMILES ({err})") from None
    if not lines or lines[0].split(",")[0].strip() != "SMILES":
        raise UserError(f"{path}: not MOSES's training CSV (no 'SMILES' header)")
    return [line.split(",")[0] for line in lines[1:] if line]


@dataclass(frozen=True)
class ReferenceNovelty:
    """Unique generated SMILES not found among `reference_molecules` reference SMILES."""

    reference: str
    reference_molecules: int
    unique: int
    novel: int

    @property
    def novelty(self) -> float:
        return self.novel / self.unique if self.unique else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "reference_molecules": self.reference_molecules,
            "unique": self.unique,
            "novel": self.novel,
            "novelty": self.novelty,
        }


def novelty_against(unique: Iterable[str], reference: Iterable[str], name: str) -> ReferenceNovelty:
    """Novelty of canonical SMILES `unique` against raw SMILES `reference`, canonicalising only the
    reference molecules whose heavy-atom count occurs among `unique` (see the module doc); reference
    SMILES RDKit cannot parse match nothing."""
    generated = set(unique)
    sizes = {heavy_atom_count(s) for s in generated}
    total = 0
    known: set[str] = set()
    for smiles in reference:
        total += 1
        if heavy_atom_count(smiles) in sizes:
            canon = canonical_smiles(smiles)
            if canon is not None:
                known.add(canon)
    return ReferenceNovelty(name, total, len(generated), len(generated - known))


def moses_novelty(unique: Iterable[str]) -> ReferenceNovelty:
    """Novelty of canonical SMILES `unique` against MOSES's 1,584,663 training molecules."""
    return novelty_against(unique, read_moses_train(), "MOSES train (molsets)")
