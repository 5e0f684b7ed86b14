"""Synthetic probabilistic-PCA data with a known number of components, and a CSV writer for `make demo`.

x_n = W z_n + μ + ε_n with W_ij ~ N(0, 1), z_n ~ N(0, I_k), μ_i ~ N(0, 1) (Tipping & Bishop 1999), and
noise ε_ni i.i.d., either N(0, s²) ("gaussian") or s · sqrt((ν - 2)/ν) · t_ν ("student-t", scaled so its
standard deviation is s when ν > 2; for ν ≤ 2 the variance is infinite and s is the plain t scale).

    python -m vcore.ppca.synthetic --out data.csv --n 1000 --d 10 --k 3 --seed 0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import typer

from vcore.cli_support import run_cli
from vcore.errors import UserError
from vcore.io.atomic import atomic_write_text

NoiseKind = Literal["gaussian", "student-t"]


@dataclass(frozen=True)
class SyntheticPPCA:
    """Data rows and the parameters that generated them."""

    x: np.ndarray  # (n, d)
    weights: np.ndarray  # (d, k)
    mean: np.ndarray  # (d,)
    latents: np.ndarray  # (n, k)
    noise_scale: float


def make_ppca_data(
    n: int,
    d: int,
    k: int,
    *,
    noise_scale: float = 0.5,
    noise: NoiseKind = "gaussian",
    df: float = 3.0,
    rng: np.random.Generator | int = 0,
) -> SyntheticPPCA:
    """Draw n rows of d-dimensional PPCA data with k true components (see the module docstring)."""
    if n < 1 or d < 1 or not 0 <= k <= d:
        raise ValueError(f"need n >= 1, d >= 1 and 0 <= k <= d, got n={n}, d={d}, k={k}")
    if not noise_scale >= 0.0:
        raise ValueError(f"noise_scale must be >= 0, got {noise_scale}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    weights = gen.normal(size=(d, k))
    mean = gen.normal(size=d)
    latents = gen.normal(size=(n, k))
    if noise == "gaussian":
        eps = gen.normal(size=(n, d))
    elif noise == "student-t":
        if not df > 0.0:
            raise ValueError(f"df must be > 0, got {df}")
        eps = gen.standard_t(df, size=(n, d))
        if df > 2.0:
            eps *= math.sqrt((df - 2.0) / df)
    else:
        raise ValueError(f"noise must be 'gaussian' or 'student-t', got {noise!r}")
    x = latents @ weights.T + mean + noise_scale * eps
    return SyntheticPPCA(x=x, weights=weights, mean=mean, latents=latents, noise_scale=noise_scale)


def write_csv(path: Path, x: np.ndarray) -> None:
    """Write rows with a header `x1,...,xd`, exactly (repr-precision floats), atomically."""
    header = ",".join(f"x{j + 1}" for j in range(x.shape[1]))
    lines = [header] + [",".join(repr(float(v)) for v in row) for row in x]
    atomic_write_text(path, "\n".join(lines) + "\n")


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def synthetic(
    out: Path = typer.Option(..., "--out", "-o", help="CSV file to write (header x1..xd)."),
    n: int = typer.Option(1000, "--n", help="Number of rows."),
    d: int = typer.Option(10, "--d", help="Number of columns."),
    k: int = typer.Option(3, "--k", help="True number of components."),
    noise_scale: float = typer.Option(0.5, "--noise-scale", help="Standard deviation of the noise."),
    noise: str = typer.Option("gaussian", "--noise", help="gaussian or student-t."),
    df: float = typer.Option(3.0, "--df", help="Degrees of freedom of student-t noise."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generator."),
) -> None:
    """Write synthetic PPCA data with a known number of components to a CSV file."""
    if noise not in ("gaussian", "student-t"):
        raise UserError(f"--noise must be 'gaussian' or 'student-t', got {noise!r}")
    kind: NoiseKind = "gaussian" if noise == "gaussian" else "student-t"
    try:
        data = make_ppca_data(n, d, k, noise_scale=noise_scale, noise=kind, df=df, rng=seed)
    except ValueError as err:
        raise UserError(str(err)) from None
    if not out.parent.is_dir():
        raise UserError(f"{out}: the directory {out.parent} does not exist")
    write_csv(out, data.x)


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
