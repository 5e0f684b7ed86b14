"""Hand-built molecules with correct geometry, shared by the vmol tests."""

from __future__ import annotations

import numpy as np
import pytest

from vmol.io.molecules import Molecule


def methane() -> Molecule:
    """CH4: C-H 1.09 A along the tetrahedral directions."""
    d = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float) / np.sqrt(3.0)
    return Molecule(np.array([6, 1, 1, 1, 1]), np.vstack([np.zeros(3), 1.09 * d]), "C", 0)


def water() -> Molecule:
    """H2O: O-H 0.96 A, angle 104.5 degrees."""
    half = np.deg2rad(104.5) / 2
    h1 = 0.96 * np.array([np.sin(half), np.cos(half), 0.0])
    h2 = 0.96 * np.array([-np.sin(half), np.cos(half), 0.0])
    return Molecule(np.array([8, 1, 1]), np.vstack([np.zeros(3), h1, h2]), "O", 1)


def ethanol() -> Molecule:
    """CH3CH2OH: QM9's B3LYP geometry of gdb 14, rounded to 1e-4 A."""
    positions = [
        [-0.0086, 1.5020, -0.0068],
        [0.0110, -0.0176, -0.0138],
        [0.6809, -0.4404, -1.1931],
        [1.0115, 1.8966, -0.0192],
        [-0.5316, 1.8808, -0.8897],
        [-0.5167, 1.8761, 0.8871],
        [0.5238, -0.3891, 0.8882],
        [-1.0203, -0.4051, 0.0169],
        [0.6953, -1.4018, -1.2015],
    ]
    return Molecule(np.array([6, 6, 8, 1, 1, 1, 1, 1, 1]), np.array(positions), "CCO", 2)


def drop_atom(mol: Molecule, k: int) -> Molecule:
    keep = np.arange(len(mol)) != k
    return Molecule(mol.numbers[keep], mol.positions[keep], None, mol.index)


@pytest.fixture
def three() -> list[Molecule]:
    """Methane, water and ethanol."""
    return [methane(), water(), ethanol()]


@pytest.fixture
def three_without_h() -> list[Molecule]:
    """Methane, water and ethanol, each with its last atom (a hydrogen) removed."""
    return [drop_atom(m, len(m) - 1) for m in (methane(), water(), ethanol())]


@pytest.fixture
def hand_built() -> dict[str, Molecule]:
    """{'methane', 'water', 'ethanol'} -> molecule."""
    return {"methane": methane(), "water": water(), "ethanol": ethanol()}
