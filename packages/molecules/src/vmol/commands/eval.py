"""`vmol eval MOLS [--reference train_smiles.txt] [--json]`: generation metrics of 3D molecules.

MOLS is an .sdf (RDKit, removeHs=False, sanitize=False; bonds in the file are ignored), a multi-record .xyz
or a vmol .npz (e.g. a `vmol data qm9` split). Only atom types and coordinates are used:

- atom and molecule stability (EDM: bond orders from distances with EDM's table, valences H1 C4 N3 O2 F1);
- validity, uniqueness, valid-and-unique (EDM: RDKit sanitisation of the distance-table graph, or with
  `--bonds rdkit` of rdDetermineBonds' graph; canonical SMILES of the largest fragment);
- novelty against --reference (a SMILES file such as DIR/train_smiles.txt from `vmol data qm9`) and, with
  --moses, against MOSES's 1.58M training SMILES (`pip install --no-deps molsets`);
- PolyGraph Discrepancy (Krimmel et al. 2025) of the valid molecules against --pgd-reference (a SMILES file
  or a molecule file such as DIR/test.npz; default: --reference), with the tightest descriptor named.

Bad input ends with exit code 2 and one line naming the file and record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import check_seed, configure_logging, emit_report, fail
from vcore.errors import UserError

MOLECULE_SUFFIXES = (".sdf", ".sd", ".mol", ".xyz", ".npz")


def _pct(value: float | None) -> str:
    return "       -" if value is None else f"{100 * value:8.2f} %"


def _table(report: dict[str, Any]) -> str:
    st, va = report["stability"], report["validity"]
    lines = [
        f"molecules: {report['input']} ({report['molecules']} molecules, {report['atoms']} atoms; "
        f"bonds: {report['bonds']})",
        f"atom stability     {_pct(st['atom_stability'])}   ({st['stable_atoms']} / {st['atoms']} atoms)",
        f"molecule stability {_pct(st['molecule_stability'])}   "
        f"({st['stable_molecules']} / {st['molecules']} molecules)",
        f"validity           {_pct(va['validity'])}   ({va['valid']} valid)",
        f"uniqueness         {_pct(va['uniqueness'])}   ({va['unique']} unique among valid)",
        f"valid and unique   {_pct(va['valid_and_unique'])}",
    ]
    if va["novelty"] is None:
        lines.append("novelty                   -   (no --reference)")
    else:
        lines.append(
            f"novelty            {_pct(va['novelty'])}   ({va['novel']} unique valid not in reference)"
        )
    moses = report["novelty_moses"]
    if moses is not None:
        lines.append(
            f"novelty (MOSES)    {_pct(moses['novelty'])}   ({moses['novel']} unique valid not among "
            f"{moses['reference_molecules']:,} MOSES training SMILES)"
        )
    pgd = report["pgd"]
    if pgd is None:
        lines.append(f"PGD                       -   ({report['pgd_skipped']})")
    else:
        subs = ", ".join(f"{k} {v:.3f}" for k, v in pgd["subscores"].items())
        lines.append(
            f"PGD                {pgd['pgd']:8.4f}     (tightest: {pgd['descriptor']}; {subs}; "
            f"{pgd['molecules_per_set']} molecules per set, {pgd['classifier']})"
        )
    return "\n".join(lines)


def _pgd_reference(path: Path, bonds: str) -> list[str]:
    """Reference SMILES for PGD: a SMILES file, or the valid molecules of a molecule file (with duplicates)."""
    from vmol.io.molecules import read_molecules
    from vmol.metrics.validity import molecule_smiles, read_reference

    if path.suffix.lower() in MOLECULE_SUFFIXES:
        smiles = [molecule_smiles(m, bonds) for m in read_molecules(path)]  # type: ignore[arg-type]
        return [s for s in smiles if s is not None]
    return sorted(read_reference(path))


def _run(
    mols_path: Path,
    as_json: bool,
    reference: Path | None,
    pgd_reference: Path | None,
    bonds: str,
    pgd: bool,
    classifier: str,
    pgd_max: int,
    seed: int,
    quiet: bool,
    out: Path | None,
    moses: bool,
) -> None:
    from vmol.io.molecules import read_molecules
    from vmol.metrics.evaluate import evaluate_molecules
    from vmol.metrics.pgd import CLASSIFIERS, MIN_MOLECULES
    from vmol.metrics.validity import BOND_METHODS, read_reference

    if bonds not in BOND_METHODS:
        raise UserError(f"--bonds must be one of {', '.join(BOND_METHODS)}, got {bonds!r}")
    if classifier not in CLASSIFIERS:
        raise UserError(f"--pgd-classifier must be one of {', '.join(CLASSIFIERS)}, got {classifier!r}")
    if pgd_max < MIN_MOLECULES:
        raise UserError(f"--pgd-max must be at least {MIN_MOLECULES}, got {pgd_max}")
    check_seed(seed)
    if moses:
        from vmol.metrics.moses import moses_train_file

        moses_train_file()  # a missing molsets fails before the molecules are read
    molecules = read_molecules(mols_path)
    ref_set = read_reference(reference) if reference is not None else None
    pgd_ref: list[str] | None = None
    if pgd:
        if pgd_reference is not None:
            pgd_ref = _pgd_reference(pgd_reference, bonds)
        elif ref_set is not None:
            pgd_ref = sorted(ref_set)
    report: dict[str, Any] = {
        "input": str(mols_path),
        "reference": None if reference is None else str(reference),
        "pgd_reference": str(pgd_reference or reference) if pgd_ref is not None else None,
        **evaluate_molecules(
            molecules,
            reference=ref_set,
            bonds=bonds,  # type: ignore[arg-type]
            pgd_reference=pgd_ref,
            pgd_classifier=classifier,
            pgd_max_molecules=pgd_max,
            seed=seed,
            progress=not quiet,
            moses=moses,
        ),
    }
    if not pgd:
        report["pgd_skipped"] = "--no-pgd"
    emit_report(report, _table(report), as_json=as_json, out=out, quiet=quiet)


def eval_command(
    molecules: Annotated[Path, typer.Argument(help="Molecules to evaluate: .sdf, .xyz or vmol .npz.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric and count as JSON.")] = False,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="Reference SMILES for novelty (e.g. DIR/train_smiles.txt)."),
    ] = None,
    pgd_reference: Annotated[
        Path | None,
        typer.Option(
            "--pgd-reference", help="PGD reference: SMILES file or molecule file (default: --reference)."
        ),
    ] = None,
    moses: Annotated[
        bool,
        typer.Option(
            "--moses",
            help="Also novelty against MOSES's training SMILES (needs: pip install --no-deps molsets).",
        ),
    ] = False,
    bonds: Annotated[
        str, typer.Option("--bonds", help="Bond perception for validity: table (EDM) or rdkit.")
    ] = "table",
    pgd: Annotated[bool, typer.Option("--pgd/--no-pgd", help="Compute the PolyGraph Discrepancy.")] = True,
    classifier: Annotated[
        str, typer.Option("--pgd-classifier", help="PGD classifier: logistic or boosting.")
    ] = "logistic",
    pgd_max: Annotated[
        int, typer.Option("--pgd-max", help="At most this many molecules per set for PGD (subsampled).")
    ] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of PGD's subsampling and splits.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or status lines.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the JSON report here (atomically).")
    ] = None,
) -> None:
    """Stability, validity, uniqueness, novelty and PGD of generated 3D molecules."""
    configure_logging(quiet)
    try:
        _run(
            molecules,
            as_json,
            reference,
            pgd_reference,
            bonds,
            pgd,
            classifier,
            pgd_max,
            seed,
            quiet,
            out,
            moses,
        )
    except UserError as err:
        raise fail(str(err)) from None
