"""QM9 from qm9pack, the cache, EDM's split and the CPU subsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vmol.data.qm9 import QM9_SIZE, cache_dir, cache_path, read_qm9pack
from vmol.data.split import EDM_TEST, EDM_TRAIN, EDM_VAL, split_permutation, split_qm9, split_sizes, subset
from vmol.io.molecules import Molecule


def test_first_molecules_parse() -> None:
    mols = read_qm9pack(max_molecules=3)
    assert [m.index for m in mols] == [1, 2, 3]
    assert [m.smiles for m in mols] == ["C", "N", "O"]
    assert mols[0].numbers.tolist() == [6, 1, 1, 1, 1]
    np.testing.assert_allclose(mols[0].positions[0], [-0.0126981359, 1.0858041578, 0.0080009958], atol=1e-12)
    assert mols[2].symbols == ["O", "H", "H"]


def test_spread_sample_is_sorted_by_index() -> None:
    mols = read_qm9pack(every=1000)
    idx = [m.index for m in mols]
    assert idx == sorted(idx)
    assert len(idx) == len(set(idx)) == 132
    assert idx[-1] > 130_000
    assert max(m.heavy_atoms for m in mols) == 9


def test_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VMOL_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert cache_path().name == "qm9_qm9pack-1.0.3_v1.npz"
    monkeypatch.delenv("VMOL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "vbound" / "vmol"


def test_edm_split_sizes() -> None:
    assert (EDM_TRAIN, EDM_VAL, EDM_TEST) == (100_000, 17_748, 13_083)
    assert split_sizes(QM9_SIZE) == (100_000, 17_748, 13_083)
    assert split_sizes(1000) == (764, 136, 100)


def test_permutation_is_edms_seeded_global_permutation() -> None:
    state = np.random.get_state()  # noqa: NPY002  (EDM uses the legacy global generator)
    try:
        np.random.seed(0)  # noqa: NPY002
        expected = np.random.permutation(QM9_SIZE)  # noqa: NPY002
    finally:
        np.random.set_state(state)  # noqa: NPY002
    np.testing.assert_array_equal(split_permutation(QM9_SIZE, 0), expected)


def _toy(n: int) -> list[Molecule]:
    return [Molecule(np.array([6] * (1 + i % 9) + [1]), np.arange(3 * (2 + i % 9)).reshape(-1, 3) * 1.5, None, 10 * i)
            for i in range(n)]  # fmt: skip


def test_split_is_a_seeded_partition_independent_of_input_order() -> None:
    mols = _toy(1000)
    split = split_qm9(mols, seed=3)
    assert split.sizes() == {"train": 764, "val": 136, "test": 100}
    ids = [m.index for part in (split.train, split.val, split.test) for m in part]
    assert sorted(ids) == [10 * i for i in range(1000)]
    again = split_qm9(list(reversed(mols)), seed=3)
    assert [m.index for m in again.test] == [m.index for m in split.test]
    assert [m.index for m in split_qm9(mols, seed=4).test] != [m.index for m in split.test]
    perm = np.random.RandomState(3).permutation(1000)
    assert [m.index for m in split.train[:5]] == [10 * int(i) for i in perm[:5]]


def test_subset_filters() -> None:
    mols = _toy(18)  # heavy atoms 1..9 twice, n atoms 2..10
    assert len(subset(mols, max_heavy_atoms=3)) == 6
    assert len(subset(mols, max_atoms=5)) == 8
    assert len(subset(mols, max_atoms=5, max_heavy_atoms=2)) == 4
    assert len(subset(mols)) == 18


@pytest.mark.slow
def test_full_load_cache_and_edm_split(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from vmol.data import load_qm9

    monkeypatch.setenv("VMOL_CACHE", str(tmp_path))
    mols = load_qm9()
    assert len(mols) == QM9_SIZE
    assert cache_path().is_file()
    again = load_qm9()
    assert [m.index for m in again[:5]] == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(again[-1].positions, mols[-1].positions)
    split = split_qm9(again, 0)
    assert split.sizes() == {"train": 100_000, "val": 17_748, "test": 13_083}
    assert [m.index for m in split.test[:3]] == [117980, 92051, 68086]
    assert len(subset(mols, max_heavy_atoms=7)) == 3921
