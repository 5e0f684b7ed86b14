"""All generation metrics of a set of 3D molecules in one pass: EDM stability, validity/uniqueness/novelty, PGD.

Stability and validity follow EDM (Hoogeboom et al. 2022; see `vmol.metrics.stability` and
`vmol.metrics.validity`); novelty is against a reference SMILES set and, optionally, MOSES's training set
(`vmol.metrics.moses`); PGD (Krimmel et al. 2025, `vmol.metrics.pgd`) compares the valid molecules' SMILES
(duplicates kept) with a reference SMILES list, e.g. QM9's training or test set.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from vmol.io.molecules import Molecule
from vmol.metrics.moses import moses_novelty
from vmol.metrics.pgd import polygraph_discrepancy
from vmol.metrics.stability import StabilityResult, stable_atoms
from vmol.metrics.validity import BondMethod, molecule_smiles, validity_from_smiles

logger = logging.getLogger(__name__)


def evaluate_molecules(
    molecules: Sequence[Molecule],
    reference: set[str] | None = None,
    bonds: BondMethod = "table",
    pgd_reference: Sequence[str] | None = None,
    pgd_classifier: str = "logistic",
    pgd_max_molecules: int | None = 5000,
    seed: int = 0,
    progress: bool = False,
    moses: bool = False,
) -> dict[str, Any]:
    """A report dict: counts, stability, validity/uniqueness/novelty (novelty with `reference`), with
    `moses` novelty against MOSES's training set (`novelty_moses`; UserError when molsets is not installed)
    and PGD (with `pgd_reference`; None with the reason in `pgd_skipped` when it cannot be computed)."""
    from tqdm import tqdm

    stable_a = atoms = stable_m = 0
    smiles: list[str | None] = []
    for mol in tqdm(molecules, desc="molecules", unit="mol", disable=not progress, leave=False):
        ok = stable_atoms(mol)
        stable_a += int(ok.sum())
        atoms += int(ok.size)
        stable_m += int(ok.all())
        smiles.append(molecule_smiles(mol, bonds))
    stab = StabilityResult(stable_a, atoms, stable_m, len(molecules))
    val = validity_from_smiles(smiles, reference)
    report: dict[str, Any] = {
        "molecules": len(molecules),
        "atoms": atoms,
        "bonds": bonds,
        "stability": stab.to_dict(),
        "validity": val.to_dict(),
        "novelty_moses": None,
        "pgd": None,
        "pgd_skipped": None,
    }
    valid = [s for s in smiles if s is not None]
    if moses:
        report["novelty_moses"] = moses_novelty(valid).to_dict()
    if pgd_reference is None:
        report["pgd_skipped"] = "no reference SMILES"
        return report
    try:
        result = polygraph_discrepancy(
            valid, list(pgd_reference), classifier=pgd_classifier, seed=seed, max_molecules=pgd_max_molecules
        )
    except ValueError as err:
        report["pgd_skipped"] = str(err)
        logger.warning("PGD skipped: %s", err)
        return report
    report["pgd"] = result.to_dict()
    return report
