"""PolyGraph Discrepancy: the bound's closed form, ~0 for one distribution, ~1 for disjoint ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vmol.metrics.pgd import DESCRIPTOR_NAMES, describe, js_distance_bound, polygraph_discrepancy


def test_bound_closed_form() -> None:
    half = np.full(10, 0.5)
    assert js_distance_bound(half, half) == 0.0
    assert js_distance_bound(np.ones(10), np.zeros(10)) == pytest.approx(1.0, abs=1e-9)
    # D = 0.9 on reference, 0.1 on generated: 1 + log2(0.9) bits
    assert js_distance_bound(np.full(4, 0.9), np.full(4, 0.1)) == pytest.approx(
        math.sqrt(1 + math.log2(0.9)), abs=1e-9
    )
    assert js_distance_bound(np.full(4, 0.1), np.full(4, 0.9)) == 0.0  # worse than chance: clipped


def test_descriptor_shapes() -> None:
    out = describe(["C", "CCO", "c1ccccc1"])
    assert {k: v.shape for k, v in out.items()} == {
        "topological": (3, 19),
        "morgan": (3, 128),
        "lipinski": (3, 28),
    }
    assert out["lipinski"][1, 0] == 3  # HeavyAtomCount of ethanol
    assert all(np.isfinite(v).all() for v in out.values())


def _qm9_smiles() -> list[str]:
    from vmol.data.qm9 import read_qm9pack

    return sorted({m.smiles for m in read_qm9pack(every=100) if m.smiles})


def _alkanes(count: int, seed: int = 0) -> list[str]:
    """Distinct random acyclic alkanes with 12-30 carbons (chains with methyl/ethyl branches)."""
    from rdkit import Chem

    rng = np.random.default_rng(seed)
    out: set[str] = set()
    while len(out) < count:
        mol = Chem.RWMol()
        for _ in range(int(rng.integers(12, 31))):
            mol.AddAtom(Chem.Atom(6))
            if mol.GetNumAtoms() > 1:
                free = [a.GetIdx() for a in mol.GetAtoms() if a.GetDegree() < 4][:-1] or [0]
                anchor = mol.GetNumAtoms() - 2 if rng.random() < 0.7 else int(rng.choice(free))
                mol.AddBond(anchor, mol.GetNumAtoms() - 1, Chem.BondType.SINGLE)
        Chem.SanitizeMol(mol)
        out.add(Chem.MolToSmiles(mol))
    return sorted(out)


def test_same_distribution_is_near_zero() -> None:
    smiles = _qm9_smiles()
    rng = np.random.default_rng(1)
    order = rng.permutation(len(smiles))
    a = [smiles[i] for i in order[:300]]
    b = [smiles[i] for i in order[300:600]]
    result = polygraph_discrepancy(a, b, seed=0)
    assert result.molecules == 300
    assert set(result.subscores) == set(DESCRIPTOR_NAMES)
    assert result.pgd <= 0.1
    assert max(result.subscores.values()) <= 0.1
    identical = polygraph_discrepancy(a, a, seed=0)
    assert identical.pgd <= 0.1


def test_disjoint_distributions_are_near_one() -> None:
    qm9 = _qm9_smiles()[:300]
    result = polygraph_discrepancy(_alkanes(300), qm9, seed=0)
    assert result.pgd >= 0.9
    assert result.descriptor in DESCRIPTOR_NAMES
    assert result.pgd == result.subscores[result.descriptor]
    assert result.descriptor == max(result.cv_subscores, key=lambda k: result.cv_subscores[k])


def test_boosting_classifier_also_separates() -> None:
    qm9 = _qm9_smiles()[:100]
    result = polygraph_discrepancy(_alkanes(100), qm9, classifier="boosting", seed=0)
    assert result.pgd >= 0.9


def test_sets_are_subsampled_to_equal_size_and_minimum_enforced() -> None:
    qm9 = _qm9_smiles()
    result = polygraph_discrepancy(qm9[:50], qm9[50:500], seed=0, descriptors=("lipinski",))
    assert result.molecules == 50
    result = polygraph_discrepancy(qm9[:400], qm9[400:800], seed=0, max_molecules=40, descriptors=("morgan",))
    assert result.molecules == 40
    with pytest.raises(ValueError, match="at least 20 molecules"):
        polygraph_discrepancy(qm9[:19], qm9[19:100])
