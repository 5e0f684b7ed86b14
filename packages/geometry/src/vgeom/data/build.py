"""Build a "vgeom-shapes/1" dataset: sample every shape's surface, normalise it, split by shape.

Sources, each shape with a stable id:
  proc/<family>/<index>    procedural families (`vgeom.data.procedural`), `per_category` each;
  cgal/<name>              CGAL's meshes from libcgal-demo (`vgeom.data.cgal`), category "cgal";
  misc/<package>-<name>    meshes bundled with pymeshlab/pyvista when installed, category "misc";
  user/<relative path>     every mesh or cloud file under a user folder, category = its first subfolder.

Reproducibility: shape `i` draws everything (geometry, surface samples) from
numpy.random.default_rng([seed, crc32(shape_id)]), so a shape does not depend on which other shapes are
built, and the same arguments give byte-identical NPZ files. The split is stratified: within each
category, shapes are permuted by default_rng([seed, crc32(category), 1]) and cut into
round(0.1 n) test, round(0.1 n) validation and the rest training shapes (at least one each when n ≥ 3).
Normalisation: "shape_unit" (see `vgeom.data.sampling`).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vcore.errors import UserError
from vcore.io.atomic import atomic_dir
from vgeom.data.dataset import FORMAT, MANIFEST_NAME, SPLITS, ShapeSplit, write_manifest, write_split
from vgeom.data.mesh import Mesh
from vgeom.data.sampling import (
    NORMALIZATION_DESCRIPTION,
    NORMALIZATION_MODE,
    normalize_shape_unit,
    resample_points,
    sample_surface,
)

logger = logging.getLogger(__name__)

DEFAULT_POINTS = 2048
DEFAULT_PER_CATEGORY = 400
FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


@dataclass(frozen=True)
class BuildConfig:
    """What `build_shapes` builds; `categories=None` means every procedural family."""

    out: Path
    points: int = DEFAULT_POINTS
    seed: int = 0
    per_category: int = DEFAULT_PER_CATEGORY
    categories: tuple[str, ...] | None = None
    include_cgal: bool = True
    include_packaged: bool = True
    meshes: Path | None = None


@dataclass(frozen=True)
class ShapeJob:
    """One shape to build: its category, stable id and a function from its generator to a raw cloud."""

    category: str
    shape_id: str
    make: Callable[[np.random.Generator], np.ndarray]


def shape_rng(seed: int, key: str, *extra: int) -> np.random.Generator:
    """default_rng([seed, crc32(key), *extra]): a stream that depends only on the seed and the key."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8")), *extra])


def _procedural_jobs(config: BuildConfig) -> tuple[list[ShapeJob], dict[str, Any] | None]:
    from vgeom.data.procedural import FAMILIES, generate

    names = sorted(FAMILIES) if config.categories is None else list(config.categories)
    unknown = [c for c in names if c not in FAMILIES]
    if unknown:
        raise UserError(
            f"--categories: unknown {', '.join(unknown)}; procedural families: {', '.join(FAMILIES)}"
        )
    if config.per_category <= 0 or not names:
        return [], None
    width = max(4, len(str(config.per_category - 1)))
    jobs = []
    for category in names:
        for index in range(config.per_category):

            def make(rng: np.random.Generator, category: str = category) -> np.ndarray:
                return sample_surface(*generate(category, rng), config.points, rng)

            jobs.append(ShapeJob(category, f"proc/{category}/{index:0{width}d}", make))
    source = {
        "name": "procedural",
        "module": "vgeom.data.procedural",
        "categories": names,
        "per_category": config.per_category,
    }
    return jobs, source


def _mesh_jobs(category: str, prefix: str, meshes: dict[str, Mesh], points: int) -> list[ShapeJob]:
    def job(mesh: Mesh) -> Callable[[np.random.Generator], np.ndarray]:
        return lambda rng: sample_surface(*mesh, points, rng)

    return [ShapeJob(category, f"{prefix}/{name}", job(mesh)) for name, mesh in meshes.items()]


def _folder_jobs(folder: Path, points: int) -> tuple[list[ShapeJob], dict[str, Any]]:
    from vgeom.io.clouds import read_cloud, supported_extensions

    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder (--meshes)")
    files = sorted(f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in supported_extensions())
    if not files:
        raise UserError(f"{folder}: no mesh or point-cloud files ({' '.join(supported_extensions())})")
    jobs = []
    for path in files:
        rel = path.relative_to(folder)
        category = rel.parts[0] if len(rel.parts) > 1 else folder.resolve().name

        def make(rng: np.random.Generator, path: Path = path) -> np.ndarray:
            return resample_points(read_cloud(path, points=points, rng=rng), points, rng)

        jobs.append(ShapeJob(category, f"user/{rel.with_suffix('').as_posix()}", make))
    return jobs, {"name": "folder", "path": str(folder), "files": len(files)}


def collect_jobs(config: BuildConfig) -> tuple[list[ShapeJob], list[dict[str, Any]]]:
    """Every shape to build (sorted by category, then id) and the manifest's description of the sources."""
    jobs, source = _procedural_jobs(config)
    sources = [source] if source else []
    if config.include_cgal:
        from vgeom.data.cgal import CATEGORY, PACKAGE, find_archive, load_cgal_meshes

        archive = find_archive()
        real = load_cgal_meshes(archive)
        jobs += _mesh_jobs(CATEGORY, "cgal", real.meshes, config.points)
        sources.append(
            {
                "name": "cgal",
                "package": PACKAGE,
                "archive": str(archive),
                "kept": len(real.meshes),
                "dropped": real.dropped,
            }
        )
    if config.include_packaged:
        from vgeom.data.packaged import CATEGORY as MISC
        from vgeom.data.packaged import load_packaged_meshes

        packaged = load_packaged_meshes()
        if packaged.meshes:
            jobs += _mesh_jobs(MISC, "misc", packaged.meshes, config.points)
            sources.append({"name": "packaged", "kept": len(packaged.meshes), "dropped": packaged.dropped})
    if config.meshes is not None:
        folder_jobs, folder_source = _folder_jobs(Path(config.meshes), config.points)
        jobs += folder_jobs
        sources.append(folder_source)
    if not jobs:
        raise UserError(
            "nothing to build: no procedural shapes (--per-category 0), no CGAL meshes and no --meshes"
        )
    ids = [job.shape_id for job in jobs]
    if len(set(ids)) != len(ids):
        raise UserError("two input files map to the same shape id (same path with different extensions?)")
    return sorted(jobs, key=lambda j: (j.category, j.shape_id)), sources


def split_shapes(categories: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Stratified 80/10/10 split by shape: split name -> sorted indices into `categories`."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for category in sorted(set(categories.tolist())):
        members = np.flatnonzero(categories == category)
        order = members[shape_rng(seed, category, 1).permutation(len(members))]
        n = len(members)
        n_test, n_val = round(FRACTIONS["test"] * n), round(FRACTIONS["val"] * n)
        if n >= 3:
            n_test, n_val = max(n_test, 1), max(n_val, 1)
        parts["test"].append(order[:n_test])
        parts["val"].append(order[n_test : n_test + n_val])
        parts["train"].append(order[n_test + n_val :])
    return {name: np.sort(np.concatenate(chunks)).astype(np.int64) for name, chunks in parts.items()}


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise UserError(
            f"{out}: folder exists, is not empty and is not a vgeom dataset; refusing to replace it"
        )


def build_shapes(config: BuildConfig, progress: bool = True) -> dict[str, Any]:
    """Build the dataset into `config.out` (atomically: a temporary folder renamed at the end).

    Returns the manifest written to `config.out / manifest.json`.
    """
    if config.points < 1:
        raise UserError(f"--points must be positive, got {config.points}")
    out = Path(config.out)
    _check_out(out)
    jobs, sources = collect_jobs(config)
    count = len(jobs)
    points = np.empty((count, config.points, 3), dtype=np.float32)
    shift = np.empty((count, 3), dtype=np.float32)
    scale = np.empty(count, dtype=np.float32)
    for i, job in enumerate(tqdm(jobs, desc="shapes", unit="shape", disable=not progress)):
        cloud = job.make(shape_rng(config.seed, job.shape_id))
        try:
            normed, centre, spread = normalize_shape_unit(cloud)
        except ValueError as err:
            raise UserError(f"{job.shape_id}: {err}") from err
        points[i], shift[i], scale[i] = normed, centre, spread
    category = np.array([job.category for job in jobs])
    shape_id = np.array([job.shape_id for job in jobs])
    splits = split_shapes(category, config.seed)
    names, counts = np.unique(category, return_counts=True)
    manifest: dict[str, Any] = {
        "points": config.points,
        "seed": config.seed,
        "normalization": {"mode": NORMALIZATION_MODE, "description": NORMALIZATION_DESCRIPTION},
        "categories": {str(n): int(c) for n, c in zip(names, counts, strict=True)},
        "splits": {name: len(idx) for name, idx in splits.items()},
        "split_categories": {
            name: {str(n): int((category[idx] == n).sum()) for n in names} for name, idx in splits.items()
        },
        "fractions": FRACTIONS,
        "sources": sources,
    }
    with atomic_dir(out) as tmp:
        for name, idx in splits.items():
            write_split(
                tmp / f"{name}.npz",
                ShapeSplit(points[idx], category[idx], shape_id[idx], shift[idx], scale[idx]),
            )
        write_manifest(tmp, manifest)
    logger.info(
        "wrote %d shapes (%s) to %s", count, ", ".join(f"{k} {v}" for k, v in manifest["splits"].items()), out
    )
    return {**manifest, "format": FORMAT}


def parse_categories(text: str | None) -> tuple[str, ...] | None:
    """'chair, table' -> ('chair', 'table'); None or '' -> None (every family)."""
    if text is None or not text.strip():
        return None
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
