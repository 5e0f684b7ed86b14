"""Bond orders from interatomic distances with EDM's reference bond lengths (numpy only).

Source: E(3) Equivariant Diffusion for Molecule Generation (Hoogeboom, Satorras, Vignac, Welling, ICML 2022),
repository ehoogeboom/e3_diffusion_for_molecules, file `qm9/bond_analyze.py`: the tables `bonds1`, `bonds2`,
`bonds3` (typical single, double and triple bond lengths in pm, which that file takes from
wiredchemist.com's bond-length table and chemistry-reference.com's "Bond Lengths and Enthalpies"), the margins
`margin1, margin2, margin3 = 10, 5, 3` pm ("tuned to maximize the stability of the QM9 true samples") and
`allowed_bonds`. The values below are transcribed from that file.

`get_bond_order(a, b, d)` there, with d in pm, reads

    if d < bonds1[a][b] + 10:
        if (a, b) in bonds2 and d < bonds2[a][b] + 5:
            if (a, b) in bonds3 and d < bonds3[a][b] + 3: return 3
            return 2
        return 1
    return 0

`bond_orders` evaluates exactly this for all pairs at once. Pairs missing from `bonds1` (e.g. H-Hg) get
order 0, as EDM's `check_exists=True` does; for QM9's elements H, C, N, O, F every pair is in the table.
"""

from __future__ import annotations

import numpy as np

from vmol.io.molecules import ATOMIC_NUMBERS

MARGINS_PM = (10.0, 5.0, 3.0)
"""EDM's margin1, margin2, margin3 in pm, added to the single, double and triple reference lengths."""

BONDS1_PM: dict[str, dict[str, int]] = {
    "H": {"H": 74, "C": 109, "N": 101, "O": 96, "F": 92, "B": 119, "Si": 148, "P": 144, "As": 152,
          "S": 134, "Cl": 127, "Br": 141, "I": 161},
    "C": {"H": 109, "C": 154, "N": 147, "O": 143, "F": 135, "Si": 185, "P": 184, "S": 182, "Cl": 177,
          "Br": 194, "I": 214},
    "N": {"H": 101, "C": 147, "N": 145, "O": 140, "F": 136, "Cl": 175, "Br": 214, "S": 168, "I": 222,
          "P": 177},
    "O": {"H": 96, "C": 143, "N": 140, "O": 148, "F": 142, "Br": 172, "S": 151, "P": 163, "Si": 163,
          "Cl": 164, "I": 194},
    "F": {"H": 92, "C": 135, "N": 136, "O": 142, "F": 142, "S": 158, "Si": 160, "Cl": 166, "Br": 178,
          "P": 156, "I": 187},
    "B": {"H": 119, "Cl": 175},
    "Si": {"Si": 233, "H": 148, "C": 185, "O": 163, "S": 200, "F": 160, "Cl": 202, "Br": 215, "I": 243},
    "Cl": {"Cl": 199, "H": 127, "C": 177, "N": 175, "O": 164, "P": 203, "S": 207, "B": 175, "Si": 202,
           "F": 166, "Br": 214},
    "S": {"H": 134, "C": 182, "N": 168, "O": 151, "S": 204, "F": 158, "Cl": 207, "Br": 225, "Si": 200,
          "P": 210, "I": 234},
    "Br": {"Br": 228, "H": 141, "C": 194, "O": 172, "N": 214, "Si": 215, "S": 225, "F": 178, "Cl": 214,
           "P": 222},
    "P": {"P": 221, "H": 144, "C": 184, "O": 163, "Cl": 203, "S": 210, "F": 156, "N": 177, "Br": 222},
    "I": {"H": 161, "C": 214, "Si": 243, "N": 222, "O": 194, "S": 234, "F": 187, "I": 266},
    "As": {"H": 152},
}  # fmt: skip
"""Single-bond reference lengths in pm (EDM `bonds1`)."""

BONDS2_PM: dict[str, dict[str, int]] = {
    "C": {"C": 134, "N": 129, "O": 120, "S": 160},
    "N": {"C": 129, "N": 125, "O": 121},
    "O": {"C": 120, "N": 121, "O": 121, "P": 150},
    "P": {"O": 150, "S": 186},
    "S": {"P": 186, "C": 160},
}
"""Double-bond reference lengths in pm (EDM `bonds2`; EDM lists S=C only as C=S, used symmetrically)."""

BONDS3_PM: dict[str, dict[str, int]] = {
    "C": {"C": 120, "N": 116, "O": 113},
    "N": {"C": 116, "N": 110},
    "O": {"C": 113},
}
"""Triple-bond reference lengths in pm (EDM `bonds3`)."""

ALLOWED_VALENCES: dict[str, tuple[int, ...]] = {
    "H": (1,), "C": (4,), "N": (3,), "O": (2,), "F": (1,), "B": (3,), "Al": (3,), "Si": (4,), "P": (3, 5),
    "S": (4,), "Cl": (1,), "As": (3,), "Br": (1,), "I": (1,), "Hg": (1, 2), "Bi": (3, 5),
}  # fmt: skip
"""Summed bond orders that make an atom stable (EDM `allowed_bonds`); QM9 uses H1 C4 N3 O2 F1."""

QM9_ELEMENTS = (1, 6, 7, 8, 9)
"""Atomic numbers of QM9's elements H, C, N, O, F."""

_Z = ATOMIC_NUMBERS
_N_Z = 119  # lookup tables are indexed by atomic number 0..118


def _threshold_table(table: dict[str, dict[str, int]], margin: float) -> np.ndarray:
    """[119, 119] thresholds in pm (reference length + margin); -inf where the pair has no entry."""
    out = np.full((_N_Z, _N_Z), -np.inf)
    for a, row in table.items():
        for b, length in row.items():
            za, zb = _Z[a], _Z[b]
            out[za, zb] = out[zb, za] = length + margin
    return out


THRESHOLDS_PM = np.stack(
    [_threshold_table(t, m) for t, m in zip((BONDS1_PM, BONDS2_PM, BONDS3_PM), MARGINS_PM, strict=True)]
)
"""[3, 119, 119]: a pair at distance d (pm) has order = number of k with d < THRESHOLDS_PM[k, za, zb]."""

_VALENCE_MASK = np.zeros((_N_Z, 8), dtype=bool)  # [z, v]: summed order v is allowed for element z
for _symbol, _valences in ALLOWED_VALENCES.items():
    _VALENCE_MASK[_Z[_symbol], list(_valences)] = True


def bond_order_from_distance(z1: int, z2: int, distance: float) -> int:
    """EDM's get_bond_order for one pair: distance in Angstrom, 0 (no bond) to 3 (triple)."""
    d = 100.0 * distance
    t = THRESHOLDS_PM[:, z1, z2]
    if not d < t[0]:
        return 0
    if not d < t[1]:
        return 1
    return 3 if d < t[2] else 2


def bond_orders(numbers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """[n, n] int8 bond orders (0-3) of all atom pairs from their distances, zero on the diagonal."""
    z = np.asarray(numbers, dtype=np.int64)
    x = np.asarray(positions, dtype=np.float64)
    d = 100.0 * np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))  # pm, as EDM
    t = THRESHOLDS_PM[:, z[:, None], z[None, :]]  # [3, n, n]
    single = d < t[0]
    double = single & (d < t[1])
    triple = double & (d < t[2])
    orders = single.astype(np.int8) + double.astype(np.int8) + triple.astype(np.int8)
    np.fill_diagonal(orders, 0)
    return orders


def valence_allowed(numbers: np.ndarray, valences: np.ndarray) -> np.ndarray:
    """Bool [n]: whether each atom's summed bond order is one of its element's allowed valences.

    Elements without an entry in `ALLOWED_VALENCES` are never stable.
    """
    z = np.asarray(numbers, dtype=np.int64)
    v = np.asarray(valences, dtype=np.int64)
    ok = (v >= 0) & (v < _VALENCE_MASK.shape[1])
    out = np.zeros(z.shape, dtype=bool)
    out[ok] = _VALENCE_MASK[z[ok], v[ok]]
    return out
