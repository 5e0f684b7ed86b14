"""The shipped vmol EDM checkpoint: 1,000 sampled molecules' stability, validity, uniqueness, novelty and PGD,
sampling time per molecule, and the variational bound on the QM9 test split.

QM9 is split as `vmol data qm9 --seed 0` does (EDM's split) and cached under `<out>/vmol-cache/qm9`. The
molecules are drawn with `vmol sample`'s defaults (every one of the T reverse steps, batches of 64, bf16
network arithmetic where native, seed 0, and the network compiled, as `vmol sample` does for a run this
large); the time is the sampling wall time, the one-time compile included, divided by the number of
molecules (target: <= 2 s per molecule).
Novelty is against the training SMILES and against MOSES's 1.58M training SMILES (PyPI `molsets`, which
scripts/setup.sh installs), PGD (Krimmel et al. 2025) against the test split's SMILES. The test NLL is
EDM's bound with the single-t estimate of the diffusion sum (unbiased for the bound), in nats per molecule,
over every test molecule. Targets (issue 6): atom stability >= 95%, validity >= 85%,
uniqueness >= 90%, molecule stability >= 50%.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

TARGETS = {"atom_stability": 0.95, "validity": 0.85, "uniqueness": 0.90, "molecule_stability": 0.50}
TARGET_SECONDS_PER_MOLECULE = 2.0


def _dataset(cache: Path) -> Path:
    from vmol.commands.data import build_qm9

    folder = cache / "qm9"
    if not (folder / "manifest.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        logger.info("building the QM9 split into %s", folder)
        build_qm9(folder, seed=0)
    return folder


def _test_nll(model: Any, data: Path, batch_size: int = 64) -> float:
    from vmol.io.molecules import read_npz
    from vmol.model.batch import molecules_to_batch

    molecules = read_npz(data / "test.npz")
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(molecules), batch_size):
            chunk = molecules[start : start + batch_size]
            terms = model.nll(molecules_to_batch(chunk, model.config.atom_types), generator)
            total += float(terms["total"].sum())
    return total / len(molecules)


def run(out: Path, n: int = 1000, threads: int = 2, checkpoint: Path | None = None) -> dict[str, Any]:
    """Sample `n` molecules from the shipped (or a given) checkpoint and measure them; see the module doc."""
    from vcore.errors import UserError
    from vcore.precision import bf16_native
    from vmol.commands.checkpoint import load_edm
    from vmol.commands.sample import should_compile
    from vmol.io.molecules import read_npz
    from vmol.metrics.evaluate import evaluate_molecules
    from vmol.metrics.validity import molecule_smiles, read_reference

    try:
        model = load_edm(checkpoint).eval()
    except UserError as err:
        return {"skipped": str(err)}
    torch.set_num_threads(threads)
    data = _dataset(out / "vmol-cache")
    generator = torch.Generator().manual_seed(0)
    counts = model.sample_n_nodes(n, generator)
    start = time.perf_counter()
    bf16 = bf16_native(torch.device("cpu"))  # `vmol sample`'s default --precision auto
    if should_compile(None, n, model.timesteps):  # as `vmol sample` decides; the compile is part of the time
        model.compile_network()
    molecules = model.sample(counts, None, generator, 64, bf16)
    seconds = time.perf_counter() - start
    test_smiles = [s for s in (molecule_smiles(m) for m in read_npz(data / "test.npz")) if s is not None]
    report = evaluate_molecules(
        molecules, reference=read_reference(data / "train_smiles.txt"), pgd_reference=test_smiles, moses=True
    )
    stability, validity = report["stability"], report["validity"]
    measured = {
        "atom_stability": stability["atom_stability"],
        "molecule_stability": stability["molecule_stability"],
        "validity": validity["validity"],
        "uniqueness": validity["uniqueness"],
        "novelty": validity["novelty"],
        "novelty_moses": report["novelty_moses"]["novelty"],
    }
    return {
        "checkpoint": str(checkpoint or "default"),
        "molecules": n,
        "steps": model.timesteps,
        "threads": threads,
        "precision": "bf16" if bf16 else "fp32",
        "seconds_per_molecule": seconds / n,
        "target_seconds_per_molecule": TARGET_SECONDS_PER_MOLECULE,
        **measured,
        "targets": TARGETS,
        "pgd": report["pgd"],
        "pgd_skipped": report["pgd_skipped"],
        "test_nll_nats": _test_nll(model, data),
    }


def rows(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return ["| vmol EDM samples |", "|---|", f"| skipped: {result['skipped']} |"]
    pgd = result["pgd"]
    pgd_text = f"{pgd['pgd']:.3f} ({pgd['descriptor']})" if pgd else f"n/a ({result['pgd_skipped']})"
    return [
        "| vmol EDM, 1,000 samples | atom stab. | mol. stab. | validity | uniqueness | novelty (QM9 / MOSES) | PGD | s / molecule | test NLL (nats) |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result['checkpoint']}, T = {result['steps']}, {result['precision']}, {result['threads']} threads "
        f"| {result['atom_stability']:.1%} | {result['molecule_stability']:.1%} | {result['validity']:.1%} "
        f"| {result['uniqueness']:.1%} | {result['novelty']:.1%} / {result['novelty_moses']:.1%} | {pgd_text} "
        f"| {result['seconds_per_molecule']:.2f} | {result['test_nll_nats']:.1f} |",
        "| target | >= 95% | >= 50% | >= 85% | >= 90% | | | <= 2 | |",
    ]


def main(argv: list[str] | None = None) -> int:
    """`PYTHONPATH=apps python -m bench.molecules [--checkpoint CKPT] [-n N]`: print the result as JSON."""
    parser = argparse.ArgumentParser(prog="bench.molecules", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = run(args.out, n=args.n, threads=args.threads, checkpoint=args.checkpoint)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
