"""`vcore ppca-select data.csv --max-k K [--noise auto]`: the number of PPCA components by maximal ELBO.

Reads a numeric CSV (`vcore.ppca.csv_input`), standardises it once (`vcore.ppca.select.standardise`),
fits variational-Bayes PPCA for k = 1..K with Gaussian noise (`vcore.ppca.vb`), Student-t noise
(`vcore.ppca.robust_vb`) or both (`--noise auto`, the default), and reports, per k, the ELBO of each
noise model (a lower bound on log p(X | k, noise)) and the Tipping & Bishop maximised log-likelihood of
Gaussian PPCA, in nats over the data set and per sample. The chosen (noise, k) maximises the ELBO
(Chérief-Abdellatif 2019).

`--seed` only drives the NumPy generators of the random restarts (seeded with (seed, k)); nothing
here uses torch or a global RNG, so torch is never imported and the command starts quickly.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vcore.cli_support import check_seed, emit_report, fail
from vcore.errors import UserError

if TYPE_CHECKING:
    from vcore.ppca.csv_input import CsvMatrix
    from vcore.ppca.select import NoiseFit, Selection

CRITERION = (
    "maximal ELBO over (noise model, k): variational-Bayes PPCA with Gaussian noise (Bishop 1999) and/or "
    "Student-t noise with nu fitted (Archambeau et al. 2006); Cherief-Abdellatif 2019"
)

PREPROCESSING_NOTE = (
    "each column centred; all columns divided by one global scale (RMS of the centred entries); "
    "the same for every k. ELBO and log-likelihood are densities of the preprocessed data: add "
    "log_jacobian for the centred data in its original units."
)


def _fit_report(fit: NoiseFit, n: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "elbo": fit.elbo,
        "elbo_per_sample": fit.elbo / n,
        "iterations": fit.iterations,
        "converged": fit.converged,
    }
    if fit.nu is not None:
        row["nu"] = fit.nu
    return row


def _report(selection: Selection, matrix: CsvMatrix, seed: int, restarts: int) -> dict[str, Any]:
    from vcore.ppca.robust_vb import NU_BOUNDS

    n = selection.n
    pre = selection.preprocessing
    fitted = [fit.noise for fit in selection.results[0].fits]
    prior: dict[str, Any] = {
        "w_precision_alpha": selection.prior.alpha,
        "mu_precision_beta": selection.prior.beta,
        "tau_gamma_shape_a0": selection.prior.a0,
        "tau_gamma_rate_b0": selection.prior.b0,
    }
    if "student-t" in fitted:
        prior["student_t_nu"] = f"fitted by maximising the ELBO in [{NU_BOUNDS[0]:g}, {NU_BOUNDS[1]:g}]"
    return {
        "file": str(matrix.path),
        "n": n,
        "d": selection.d,
        "header": list(matrix.header) if matrix.header is not None else None,
        "max_k": len(selection.results),
        "noise": selection.noise,
        "noise_models_fitted": fitted,
        "chosen_k": selection.chosen_k,
        "chosen_noise": selection.chosen_noise,
        "chosen_nu": selection.chosen.nu,
        "criterion": CRITERION,
        "max_log_likelihood_model": "Gaussian PPCA (Tipping & Bishop 1999), whatever the noise models fitted",
        "units": "nats; totals over the data set, per_sample = total / n",
        "preprocessing": {
            "centre_columns": True,
            "global_scale": pre.scale,
            "column_means": [float(v) for v in pre.mean],
            "log_jacobian": pre.log_jacobian,
            "note": PREPROCESSING_NOTE,
        },
        "prior": prior,
        "seed": seed,
        "restarts": restarts,
        "per_k": [
            {
                "k": r.k,
                "elbo": r.elbo,
                "elbo_per_sample": r.elbo / n,
                "noise": r.best.noise,
                "elbo_by_noise": {fit.noise: _fit_report(fit, n) for fit in r.fits},
                "max_log_likelihood": r.max_log_likelihood,
                "max_log_likelihood_per_sample": r.max_log_likelihood / n,
                "iterations": r.iterations,
                "converged": r.converged,
                "chosen": r.k == selection.chosen_k,
            }
            for r in selection.results
        ],
    }


def _table(report: dict[str, Any]) -> str:
    pre = report["preprocessing"]
    fitted = report["noise_models_fitted"]
    robust = "student-t" in fitted
    elbo_heads = [f"ELBO {noise}" for noise in fitted] if len(fitted) > 1 else ["ELBO (nats)"]
    heads = [f"{'k':>3}", *(f"{h:>16}" for h in elbo_heads), *([f"{'nu':>7}"] if robust else [])]
    heads += [f"{'ELBO/n':>11}", f"{'max log-lik':>16}", f"{'log-lik/n':>11}", f"{'sweeps':>9}"]
    lines = [
        f"{report['file']}: n={report['n']} rows, d={report['d']} columns"
        + (" (header row skipped)" if report["header"] is not None else ""),
        f"preprocessing: columns centred, divided by one global scale {pre['global_scale']:.6g} (same for all k)",
        f"noise models: {', '.join(fitted)}" + (" (--noise auto)" if report["noise"] == "auto" else ""),
        "",
        " ".join(heads),
    ]
    for row in report["per_k"]:
        fits = row["elbo_by_noise"]
        mark = f"  <- chosen ({report['chosen_noise']})" if row["chosen"] else ""
        stalled = [noise for noise in fitted if not fits[noise]["converged"]]
        if stalled:
            mark += f"  (not converged: {', '.join(stalled)})"
        line = f"{row['k']:>3} " + " ".join(f"{fits[noise]['elbo']:>16.3f}" for noise in fitted)
        if robust:
            line += f" {fits['student-t']['nu']:>7.2f}"
        sweeps = "/".join(str(fits[noise]["iterations"]) for noise in fitted)
        line += (
            f" {row['elbo_per_sample']:>11.5f} {row['max_log_likelihood']:>16.3f}"
            f" {row['max_log_likelihood_per_sample']:>11.5f} {sweeps:>9}{mark}"
        )
        lines.append(line)
    nu = f", nu = {report['chosen_nu']:.3g}" if report["chosen_nu"] is not None else ""
    lines += [
        "",
        f"chosen k = {report['chosen_k']}, noise = {report['chosen_noise']}{nu} "
        "(maximal ELBO, a lower bound on log p(X | k, noise))",
        "ELBO/n: the larger ELBO of the row, per sample; nu: fitted Student-t degrees of freedom"
        if len(fitted) > 1
        else "ELBO/n: the ELBO per sample" + ("; nu: fitted Student-t degrees of freedom" if robust else ""),
        "max log-lik: maximised likelihood of Gaussian PPCA (Tipping & Bishop) whatever the noise model; "
        "it never decreases in k: shown for reference, not used to choose",
    ]
    return "\n".join(lines)


def _run(
    data: Path,
    max_k: int,
    noise: str,
    as_json: bool,
    out: Path | None,
    seed: int,
    restarts: int,
    quiet: bool,
) -> None:
    from tqdm import tqdm

    from vcore.ppca.csv_input import load_numeric_csv
    from vcore.ppca.select import NOISE_CHOICES, check_data, check_max_k, select_components

    check_seed(seed)
    if restarts < 0:
        raise UserError(f"--restarts must be >= 0, got {restarts}")
    if noise not in NOISE_CHOICES:
        raise UserError(f"--noise must be one of {', '.join(NOISE_CHOICES)}, got {noise!r}")
    matrix = load_numeric_csv(data)
    source = str(data)
    check_data(matrix.values, source)
    check_max_k(max_k, matrix.values.shape[1], source)
    with tqdm(
        total=max_k, desc="ppca-select", unit="k", disable=True if quiet else None, file=sys.stderr
    ) as bar:
        selection = select_components(
            matrix.values,
            max_k,
            noise=noise,
            restarts=restarts,
            seed=seed,
            source=source,
            on_result=lambda _: bar.update(1),
        )
    report = _report(selection, matrix, seed, restarts)
    emit_report(report, _table(report), as_json=as_json, out=out, quiet=quiet)


def ppca_select(
    data: Path = typer.Argument(
        ..., help="CSV file: one row per sample, one numeric column per feature, optional header row."
    ),
    max_k: int = typer.Option(
        ..., "--max-k", help="Largest number of components to try: 1 <= K <= columns - 1."
    ),
    noise: str = typer.Option(
        "auto",
        "--noise",
        help="Noise model: gaussian, student-t (multivariate t, nu fitted), or auto (both; largest ELBO wins).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of a table."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Also write the JSON report here (atomically)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the random restarts."),
    restarts: int = typer.Option(0, "--restarts", help="Random restarts per k besides the ML start."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or status lines on stderr."),
) -> None:
    """Choose the number of probabilistic-PCA components (and the noise model) by maximal ELBO (variational Bayes)."""
    try:
        _run(data, max_k, noise, as_json, out, seed, restarts, quiet)
    except UserError as err:
        raise fail(str(err)) from None
