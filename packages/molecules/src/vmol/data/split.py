"""EDM's QM9 train/val/test split and CPU-sized subsets.

EDM (ehoogeboom/e3_diffusion_for_molecules, `qm9/data/prepare/qm9.py:gen_splits_gdb9`, itself from
Anderson et al.'s Cormorant) sorts the 130,831 characterised molecules by gdb index, draws
`np.random.seed(0); perm = np.random.permutation(N)` and takes

    train = perm[:100000], valid = perm[100000:100000 + Nvalid], test = the last Ntest = int(0.1 * N)

so 100,000 / 17,748 / 13,083. `split_qm9(mols, seed)` does the same with `np.random.RandomState(seed)`
(identical to the seeded global generator), so seed 0 gives EDM's exact split. For other set sizes (a
subset) the sizes scale: test int(0.1 N), train min(100000, round(N * 100000 / 130831)), val the rest.

CPU subset: `subset(mols, max_atoms=..., max_heavy_atoms=...)` keeps small molecules; apply it after the
split (as `vmol data qm9 --max-heavy-atoms` does) so that each split stays inside EDM's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vmol.data.qm9 import QM9_SIZE
from vmol.io.molecules import Molecule

EDM_TRAIN = 100_000
EDM_TEST = int(0.1 * QM9_SIZE)  # 13,083
EDM_VAL = QM9_SIZE - EDM_TRAIN - EDM_TEST  # 17,748


@dataclass(frozen=True)
class Split:
    """Train, validation and test molecules (train in permutation order, i.e. shuffled)."""

    train: list[Molecule]
    val: list[Molecule]
    test: list[Molecule]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def split_sizes(n: int) -> tuple[int, int, int]:
    """(train, val, test) sizes: EDM's for n = 130,831, proportional otherwise."""
    test = int(0.1 * n)
    train = min(EDM_TRAIN, round(n * EDM_TRAIN / QM9_SIZE))
    return train, n - train - test, test


def split_permutation(n: int, seed: int = 0) -> np.ndarray:
    """EDM's permutation: np.random.RandomState(seed).permutation(n)."""
    return np.random.RandomState(seed).permutation(n)


def split_qm9(molecules: Sequence[Molecule], seed: int = 0) -> Split:
    """EDM's split of molecules sorted by index (seed 0 reproduces EDM's split of the 130,831)."""
    ordered = sorted(molecules, key=lambda m: m.index)
    n_train, n_val, _ = split_sizes(len(ordered))
    perm = split_permutation(len(ordered), seed)
    pick = [ordered[int(i)] for i in perm]
    return Split(pick[:n_train], pick[n_train : n_train + n_val], pick[n_train + n_val :])


def subset(
    molecules: Sequence[Molecule], max_atoms: int | None = None, max_heavy_atoms: int | None = None
) -> list[Molecule]:
    """Molecules with at most `max_atoms` atoms (hydrogens included) and `max_heavy_atoms` non-H atoms.

    QM9 has 1-9 heavy atoms and 3-29 atoms; max_heavy_atoms=7 keeps 3,921 molecules (3%), 6 keeps 783.
    """
    return [
        m
        for m in molecules
        if (max_atoms is None or len(m) <= max_atoms)
        and (max_heavy_atoms is None or m.heavy_atoms <= max_heavy_atoms)
    ]
