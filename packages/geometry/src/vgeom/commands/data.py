"""`vgeom data shapes --out DIR --points N --seed S`: build the offline shape dataset.

Procedural families (chair, table, airplane, lamp, vase, bottle, mug), CGAL's real meshes from Debian's
libcgal-demo (category "cgal"), meshes bundled with pymeshlab/pyvista when installed ("misc") and any user
folder of meshes or clouds (`--meshes`, category = first subfolder) are surface-sampled, normalised per
shape ("shape_unit") and split 80/10/10 by shape within each category. Same arguments, same bytes.
See `vgeom.data.build` for the details and `vgeom.data.dataset` for the format.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import check_seed, configure_logging, fail
from vcore.errors import UserError

data_app = typer.Typer(
    name="data",
    help="Build datasets (offline: nothing is downloaded).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@data_app.callback()
def data_group() -> None:
    """Dataset builders; `vgeom data shapes --help` for the shape dataset."""


@data_app.command("shapes")
def shapes_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="dataset folder to create (replaced atomically)")],
    points: Annotated[int, typer.Option("--points", help="points sampled on each shape's surface")] = 2048,
    seed: Annotated[int, typer.Option("--seed", help="seed of every shape and of the split")] = 0,
    per_category: Annotated[
        int, typer.Option("--per-category", help="shapes per procedural family (0: none)")
    ] = 400,
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="comma-separated procedural families (default: all)"),
    ] = None,
    include_cgal: Annotated[
        bool, typer.Option("--include-cgal/--no-cgal", help="add CGAL's meshes from libcgal-demo")
    ] = True,
    meshes: Annotated[
        Path | None,
        typer.Option("--meshes", help="folder of mesh/cloud files; category = first subfolder name"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or log lines")] = False,
) -> None:
    """Sample, normalise and split shapes into DIR/{train,val,test}.npz + DIR/manifest.json."""
    configure_logging(quiet)
    from vgeom.data.build import BuildConfig, build_shapes, parse_categories

    try:
        check_seed(seed)
        if per_category < 0:
            raise UserError(f"--per-category must be >= 0, got {per_category}")
        config = BuildConfig(
            out=out.expanduser(),
            points=points,
            seed=seed,
            per_category=per_category,
            categories=parse_categories(categories),
            include_cgal=include_cgal,
            meshes=meshes,
        )
        start = time.perf_counter()
        manifest = build_shapes(config, progress=not quiet)
    except UserError as err:
        raise fail(str(err)) from None
    if as_json:
        typer.echo(json.dumps(manifest, indent=2, sort_keys=True))
    elif not quiet:
        cats = ", ".join(f"{name} {count}" for name, count in manifest["categories"].items())
        splits = ", ".join(f"{name} {count}" for name, count in manifest["splits"].items())
        typer.echo(f"{out}: {sum(manifest['categories'].values())} shapes x {points} points ({cats})")
        typer.echo(f"splits: {splits}; normalisation: {manifest['normalization']['description']}")
        typer.echo(f"built in {time.perf_counter() - start:.1f} s")
