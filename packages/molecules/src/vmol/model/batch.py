"""Molecules to padded tensors for EDM (Hoogeboom et al. 2022) and back.

A batch is a dict of tensors: `positions` [B, N, 3] (Angstrom, centre of mass over the real atoms removed,
padding rows 0), `one_hot` [B, N, K] over the model's atom types, `charges` [B, N, 1] (the atomic number,
EDM's "charge"), `node_mask` [B, N] (1 for real atoms); N is the largest molecule of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from vcore.errors import UserError
from vmol.io.molecules import Molecule, symbol_of
from vmol.model.egnn import remove_mean

Batch = dict[str, Tensor]


def check_types(molecules: Sequence[Molecule], atom_types: Sequence[int], where: str) -> None:
    """UserError naming the first molecule with an element outside `atom_types`."""
    allowed = set(int(z) for z in atom_types)
    for k, mol in enumerate(molecules):
        bad = [int(z) for z in mol.numbers if int(z) not in allowed]
        if bad:
            names = ", ".join(symbol_of(z) for z in atom_types)
            raise UserError(
                f"{where}: molecule {k + 1}: element {symbol_of(bad[0])} is not one of the model's "
                f"atom types ({names})"
            )


def molecules_to_batch(
    molecules: Sequence[Molecule], atom_types: Sequence[int], dtype: torch.dtype = torch.float32
) -> Batch:
    """Pad `molecules` (elements must be in `atom_types`, see `check_types`) into a batch dict."""
    b, n = len(molecules), max(len(m) for m in molecules)
    index = {int(z): k for k, z in enumerate(atom_types)}
    positions = np.zeros((b, n, 3))
    types = np.zeros((b, n), dtype=np.int64)
    charges = np.zeros((b, n, 1))
    mask = np.zeros((b, n))
    for i, mol in enumerate(molecules):
        a = len(mol)
        positions[i, :a] = mol.positions
        types[i, :a] = [index[int(z)] for z in mol.numbers]
        charges[i, :a, 0] = mol.numbers
        mask[i, :a] = 1.0
    node_mask = torch.from_numpy(mask).to(dtype)
    one_hot = torch.nn.functional.one_hot(torch.from_numpy(types), len(atom_types)).to(dtype)
    return {
        "positions": remove_mean(torch.from_numpy(positions).to(dtype), node_mask),
        "one_hot": one_hot * node_mask.unsqueeze(-1),
        "charges": torch.from_numpy(charges).to(dtype),
        "node_mask": node_mask,
    }


def batch_to_molecules(
    positions: Tensor, types: Tensor, node_mask: Tensor, atom_types: Sequence[int]
) -> list[Molecule]:
    """Molecules from positions [B, N, 3], type indices [B, N] and node_mask [B, N]."""
    table = np.asarray(atom_types, dtype=np.int64)
    out: list[Molecule] = []
    for x, k, m in zip(
        positions.cpu().double().numpy(), types.cpu().numpy(), node_mask.cpu().numpy(), strict=True
    ):
        keep = m > 0.5
        out.append(Molecule(table[k[keep]], x[keep].astype(np.float64), None, len(out)))
    return out


class MoleculeDataset(Dataset[Molecule]):
    """Molecules by index; `collate` turns a list of them into a batch."""

    def __init__(self, molecules: Sequence[Molecule], atom_types: Sequence[int]) -> None:
        self.molecules = list(molecules)
        self.atom_types = tuple(atom_types)

    def __len__(self) -> int:
        return len(self.molecules)

    def __getitem__(self, index: int) -> Molecule:
        return self.molecules[index]

    def collate(self, items: list[Molecule]) -> Batch:
        return molecules_to_batch(items, self.atom_types)


def size_chunks(batch: Batch, chunks: int) -> list[Batch]:
    """The batch's molecules sorted by atom count and cut into `chunks` parts, each padded only to its own
    largest molecule: the EGNN's pair work drops from B N_max^2 to the sum of b_c N_c^2 (about 1.8x less for
    random QM9 batches of 64 cut in 4; measured 1.3-1.4x faster training steps). Atom order and padding stay at
    the end of each row."""
    counts = batch["node_mask"].sum(dim=1)
    order = torch.argsort(counts, stable=True)
    parts = []
    for rows in order.chunk(max(1, min(chunks, len(order)))):
        width = int(counts[rows].max())
        parts.append({key: value[rows][:, :width] for key, value in batch.items()})
    return parts
