"""EDM bond orders and atom/molecule stability: thresholds, hand-built molecules, calibration on real QM9."""

from __future__ import annotations

import numpy as np
import pytest

from vmol.io.molecules import Molecule
from vmol.metrics.bonds import THRESHOLDS_PM, bond_order_from_distance, bond_orders, valence_allowed
from vmol.metrics.stability import atom_valences, stability, stable_atoms


@pytest.mark.parametrize(
    ("z1", "z2", "distance", "order"),
    [
        (6, 6, 1.635, 1),  # C-C single below 154 + 10 pm
        (6, 6, 1.645, 0),
        (6, 6, 1.385, 2),  # double below 134 + 5 pm
        (6, 6, 1.395, 1),
        (6, 6, 1.225, 3),  # triple below 120 + 3 pm
        (6, 6, 1.235, 2),
        (6, 1, 1.185, 1),  # C-H below 109 + 10 pm
        (1, 6, 1.195, 0),
        (6, 8, 1.245, 2),  # C=O below 120 + 5 pm
        (8, 6, 1.155, 3),  # C#O below 113 + 3 pm
        (7, 7, 1.125, 3),  # N#N below 110 + 3 pm
        (1, 1, 0.835, 1),  # H-H below 74 + 10 pm
        (1, 1, 0.845, 0),
        (9, 6, 1.445, 1),  # F-C single only (no double entry)
        (9, 6, 1.00, 1),
        (1, 80, 1.00, 0),  # H-Hg: no table entry, no bond
    ],
)
def test_bond_order_thresholds(z1: int, z2: int, distance: float, order: int) -> None:
    assert bond_order_from_distance(z1, z2, distance) == order


def test_tables_are_symmetric_and_nested() -> None:
    for k in range(3):
        np.testing.assert_array_equal(THRESHOLDS_PM[k], THRESHOLDS_PM[k].T)
    finite = np.isfinite(THRESHOLDS_PM[1])
    assert (THRESHOLDS_PM[1][finite] < THRESHOLDS_PM[0][finite]).all()
    finite = np.isfinite(THRESHOLDS_PM[2])
    assert (THRESHOLDS_PM[2][finite] < THRESHOLDS_PM[1][finite]).all()


def test_matrix_agrees_with_pairwise_rule() -> None:
    rng = np.random.default_rng(0)
    z = rng.choice([1, 6, 7, 8, 9], size=30)
    x = rng.uniform(0, 4, size=(30, 3))
    orders = bond_orders(z, x)
    assert orders.dtype == np.int8
    assert (np.diag(orders) == 0).all()
    for i in range(30):
        for j in range(30):
            if i != j:
                expected = bond_order_from_distance(int(z[i]), int(z[j]), float(np.linalg.norm(x[i] - x[j])))
                assert orders[i, j] == expected


def test_valences() -> None:
    z = np.array([1, 6, 7, 8, 9, 11, 15, 15])
    v = np.array([1, 4, 3, 2, 1, 1, 5, 4])
    assert valence_allowed(z, v).tolist() == [True, True, True, True, True, False, True, False]
    assert valence_allowed(np.array([6]), np.array([12])).tolist() == [False]


def test_hand_built_molecules_are_stable(three: list[Molecule], hand_built: dict[str, Molecule]) -> None:
    assert atom_valences(hand_built["ethanol"]).tolist() == [4, 4, 2, 1, 1, 1, 1, 1, 1]
    result = stability(three)
    assert (result.stable_atoms, result.atoms, result.stable_molecules, result.molecules) == (17, 17, 3, 3)
    assert result.atom_stability == 1.0
    assert result.molecule_stability == 1.0


def test_removing_a_hydrogen_breaks_stability(three_without_h: list[Molecule]) -> None:
    assert stable_atoms(three_without_h[0]).tolist() == [False, True, True, True]
    assert stable_atoms(three_without_h[1]).tolist() == [False, True]
    result = stability(three_without_h)
    # methane 3/4, water 1/2, ethanol without its hydroxyl H: O has valence 1 -> 7/8 stable atoms
    assert (result.stable_atoms, result.atoms, result.stable_molecules, result.molecules) == (11, 14, 0, 3)


def test_calibration_on_real_qm9() -> None:
    """EDM reports 99.0% atom / 95.2% molecule stability on QM9; every 130th molecule of qm9pack (1008)."""
    from vmol.data.qm9 import read_qm9pack

    molecules = read_qm9pack(every=130)
    result = stability(molecules)
    assert (result.stable_atoms, result.atoms) == (17989, 18106)  # 99.35%
    assert (result.stable_molecules, result.molecules) == (958, 1008)  # 95.04%
    assert result.atom_stability >= 0.99
    assert result.molecule_stability >= 0.95


@pytest.mark.slow
def test_calibration_on_edm_test_split() -> None:
    """EDM's exact test split (seed 0, 13,083 molecules): 99.34% atoms, 95.22% molecules."""
    from vmol.data import load_qm9, split_qm9

    result = stability(split_qm9(load_qm9(), 0).test)
    assert (result.stable_atoms, result.atoms) == (234336, 235883)
    assert (result.stable_molecules, result.molecules) == (12457, 13083)
