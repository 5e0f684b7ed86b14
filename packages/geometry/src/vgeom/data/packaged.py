"""Sample meshes that ship inside optional PyPI packages (pymeshlab's tests/sample_meshes, pyvista's
examples), used only when the package is already installed; they are never a dependency."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from vcore.errors import UserError
from vgeom.data.cgal import RealMeshes
from vgeom.data.mesh import Mesh
from vgeom.data.screening import drop_reason, signature

logger = logging.getLogger(__name__)

CATEGORY = "misc"
LOCATIONS = {"pymeshlab": ("tests/sample_meshes", "sample_meshes"), "pyvista": ("examples",)}
EXTENSIONS = (".off", ".obj", ".ply", ".stl")


def packaged_mesh_files() -> list[tuple[str, Path]]:
    """(package, file) for every mesh file bundled with an installed optional package, sorted."""
    found = []
    for package, folders in LOCATIONS.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            for folder in folders:
                base = Path(root) / folder
                if base.is_dir():
                    found += [(package, f) for f in sorted(base.rglob("*")) if f.suffix.lower() in EXTENSIONS]
    return found


def load_packaged_meshes() -> RealMeshes:
    """Read and screen the packaged meshes (none when no such package is installed)."""
    from vgeom.io.clouds import read_mesh

    kept: dict[str, Mesh] = {}
    dropped: dict[str, str] = {}
    seen: dict[tuple[float, ...], str] = {}
    for package, path in packaged_mesh_files():
        name = f"{package}-{path.stem}"
        try:
            mesh = read_mesh(path)
        except UserError as err:
            dropped[name] = str(err)
            continue
        reason = drop_reason(mesh)
        key = signature(mesh) if reason is None else ()
        if reason is None and key in seen:
            reason = f"duplicate of {seen[key]}"
        if reason is None and name in kept:
            reason = "name already taken"
        if reason is None:
            seen[key] = name
            kept[name] = mesh
        else:
            dropped[name] = reason
            logger.info("%s: dropped %s: %s", CATEGORY, name, reason)
    return RealMeshes(dict(sorted(kept.items())), dropped)
