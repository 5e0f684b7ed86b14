"""QM9 (Ramakrishnan et al. 2014, Sci. Data 1:140022) from the PyPI package `qm9pack`, hydrogens included.

qm9pack 1.0.3 (Raghunathan Ramakrishnan, MIT licence) ships the data inside the wheel, nothing is downloaded:
`qm9pack/data/qm9_part{1,2,3}.csv` hold one row per molecule with the columns `Index` (gdb number,
1..133885), `SMILES`, `N_atoms`, `Elements` (e.g. "['C','H','H','H','H']") and `XYZ_Ang` (B3LYP/6-31G(2df,p)
coordinates in Angstrom, "[[x,y,z],...]"), 130,831 molecules in all: QM9's 133,885 minus the 3,054 that
failed the paper's consistency check ("uncharacterized.txt"), the same set EDM trains on. The package is
not imported (its __init__ needs setuptools' pkg_resources); its files are located with importlib.

`load_qm9()` parses the CSV files once (a few seconds) and keeps the molecules as a compact .npz
(`vmol.io.molecules` format) in the cache folder: $VMOL_CACHE, else $XDG_CACHE_HOME/vbound/vmol, else
~/.cache/vbound/vmol. The cache file name carries the qm9pack version and the format version.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from vcore.errors import UserError
from vmol.io.molecules import ATOMIC_NUMBERS, Molecule, read_npz, write_npz

logger = logging.getLogger(__name__)

QM9_SIZE = 130_831
"""Molecules in QM9 after removing the 3,054 uncharacterized ones (EDM's `Ngdb9 - Nexcluded`)."""
QM9PACK_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
CACHE_FORMAT = 1
CACHE_ENV = "VMOL_CACHE"


def cache_dir() -> Path:
    """$VMOL_CACHE, else $XDG_CACHE_HOME/vbound/vmol, else ~/.cache/vbound/vmol."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "vbound" / "vmol"


def qm9pack_version() -> str:
    try:
        return version("qm9pack")
    except PackageNotFoundError:
        raise UserError("qm9pack is not installed: pip install qm9pack==1.0.3") from None


def qm9pack_data_dir() -> Path:
    """The folder of qm9pack's CSV files (inside the installed package)."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("qm9pack is not installed: pip install qm9pack==1.0.3")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    missing = [f for f in QM9PACK_FILES if not (folder / f).is_file()]
    if missing:
        raise UserError(f"{folder}: qm9pack data files missing ({', '.join(missing)}); reinstall qm9pack")
    return folder


def _parse_row(index: int, smiles: str, n_atoms: int, elements: str, xyz: str, where: str) -> Molecule:
    symbols = [s.strip().strip("'\"") for s in elements.strip()[1:-1].split(",")]
    try:
        numbers = np.array([ATOMIC_NUMBERS[s] for s in symbols], dtype=np.int64)
    except KeyError as err:
        raise UserError(f"{where}: molecule {index}: unknown element {err.args[0]!r}") from None
    values = np.array(xyz.replace("[", " ").replace("]", " ").replace(",", " ").split(), dtype=np.float64)
    if numbers.size != n_atoms or values.size != 3 * n_atoms:
        raise UserError(f"{where}: molecule {index}: N_atoms={n_atoms} disagrees with Elements/XYZ_Ang")
    return Molecule(numbers, values.reshape(n_atoms, 3), smiles, index)


def read_qm9pack(max_molecules: int | None = None, every: int = 1) -> list[Molecule]:
    """Parse qm9pack's CSV files into molecules sorted by gdb index.

    `every=k` keeps every k-th molecule of each file (a fast, spread-out sample for tests); `max_molecules`
    stops after that many. The full read is checked to hold QM9_SIZE distinct molecules.
    """
    import pandas as pd

    folder = qm9pack_data_dir()
    columns = ["Index", "SMILES", "N_atoms", "Elements", "XYZ_Ang"]
    molecules: list[Molecule] = []
    for name in QM9PACK_FILES:
        path = folder / name
        skip = None if every == 1 else (lambda i, k=every: i > 0 and (i - 1) % k != 0)
        try:
            frame = pd.read_csv(path, usecols=columns, skiprows=skip)
        except (OSError, ValueError) as err:
            raise UserError(f"{path}: cannot read qm9pack's CSV ({err})") from None
        for row in frame.itertuples(index=False):
            molecules.append(
                _parse_row(
                    int(row.Index), str(row.SMILES), int(row.N_atoms), row.Elements, row.XYZ_Ang, str(path)
                )
            )
            if max_molecules is not None and len(molecules) >= max_molecules:
                break
        if max_molecules is not None and len(molecules) >= max_molecules:
            break
    molecules.sort(key=lambda m: m.index)
    full = every == 1 and max_molecules is None
    if full and (len(molecules) != QM9_SIZE or len({m.index for m in molecules}) != QM9_SIZE):
        raise UserError(f"{folder}: expected {QM9_SIZE} distinct QM9 molecules, found {len(molecules)}")
    return molecules


def cache_path() -> Path:
    return cache_dir() / f"qm9_qm9pack-{qm9pack_version()}_v{CACHE_FORMAT}.npz"


def load_qm9(refresh: bool = False) -> list[Molecule]:
    """All 130,831 QM9 molecules (hydrogens included) sorted by gdb index, from the cache when present.

    The first call parses qm9pack's CSV files and writes the cache atomically; `refresh=True` rebuilds it.
    A cache that cannot be read is rebuilt with a warning.
    """
    path = cache_path()
    if path.is_file() and not refresh:
        try:
            molecules = read_npz(path)
            if len(molecules) == QM9_SIZE:
                return molecules
            logger.warning("%s holds %d molecules, not %d; rebuilding it", path, len(molecules), QM9_SIZE)
        except UserError as err:
            logger.warning("QM9 cache unreadable (%s); rebuilding it", err)
    logger.info("parsing qm9pack's CSV files (once; cached at %s)", path)
    molecules = read_qm9pack()
    try:
        write_npz(path, molecules)
    except OSError as err:
        logger.warning("cannot write the QM9 cache %s (%s); continuing without it", path, err)
    return molecules
