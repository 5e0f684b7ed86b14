"""Read point clouds and meshes from files, check them, and write clouds as PLY.

Readers: OFF and OBJ through `vgeom.io.off` and `vgeom.io.obj` (open3d 0.20 drops coloured OFF files and
every OBJ polygon with more than three corners); PLY and STL meshes through open3d.io.read_triangle_mesh; PCD,
XYZ(N/RGB), PTS and face-less PLY through open3d.io.read_point_cloud; NumPy .npy ([N, 3]) and .npz
(an array named "points", or the only array). A mesh read as a cloud is surface-sampled by area when a
point count is given (see `vgeom.data.sampling`), otherwise its vertices are returned.

Every problem a user can cause is a `UserError` whose message starts with the file's path: missing,
unknown extension, unreadable, empty, NaN/Inf coordinates, 2-D data (two columns, or one coordinate
identical for every point), and a mesh without faces where a surface is needed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vcore.errors import UserError
from vcore.io.atomic import atomic_file
from vgeom.data.mesh import Mesh
from vgeom.data.sampling import sample_surface

MESH_EXTENSIONS = (".off", ".obj", ".ply", ".stl")
CLOUD_EXTENSIONS = (".ply", ".pcd", ".xyz", ".xyzn", ".xyzrgb", ".pts", ".npy", ".npz")
_TEXT_CLOUDS = (".xyz", ".xyzn", ".xyzrgb", ".pts")


def supported_extensions() -> tuple[str, ...]:
    """Every file extension `read_cloud` accepts (sorted, with the dot)."""
    return tuple(sorted(set(MESH_EXTENSIONS) | set(CLOUD_EXTENSIONS)))


@contextlib.contextmanager
def _quiet_open3d() -> Iterator[Any]:
    """Import open3d lazily and silence its console warnings (we report problems ourselves)."""
    import open3d as o3d

    with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error):
        yield o3d


def _existing(path: str | os.PathLike[str]) -> tuple[Path, str]:
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such file")
    if not p.is_file():
        raise UserError(f"{p}: not a file")
    ext = p.suffix.lower()
    if ext not in supported_extensions():
        raise UserError(
            f"{p}: unsupported file type {ext or '(none)'!r}; supported: {' '.join(supported_extensions())}"
        )
    if ext == ".ply":  # open3d's PLY reader prints to the console on a bad magic number
        with open(p, "rb") as handle:
            if handle.read(3) != b"ply":
                raise UserError(f"{p}: not a PLY file (it does not start with 'ply')")
    return p, ext


def _check_points(points: np.ndarray, path: Path) -> np.ndarray:
    """Shape [N, 3], N > 0, finite, and not 2-D (a coordinate shared by every point)."""
    if points.ndim != 2 or points.shape[1] != 3:
        if points.ndim == 2 and points.shape[1] == 2:
            raise UserError(f"{path}: 2-D data (2 columns); x y z points are needed")
        raise UserError(f"{path}: expected an [N, 3] array of points, got shape {list(points.shape)}")
    if len(points) == 0:
        raise UserError(f"{path}: empty point cloud (no points; is the file empty or unreadable?)")
    bad = int((~np.isfinite(points)).any(axis=1).sum())
    if bad:
        raise UserError(f"{path}: {bad} of {len(points)} points have NaN or Inf coordinates")
    if len(points) > 1:
        flat = [axis for axis, extent in zip("xyz", np.ptp(points, axis=0), strict=True) if extent == 0.0]
        if len(flat) == 3:
            raise UserError(f"{path}: all {len(points)} points coincide")
        if flat:
            raise UserError(f"{path}: 2-D data (every point has the same {flat[0]} coordinate)")
    return points


def _text_columns(path: Path) -> int:
    """Numeric columns on the first data line of an XYZ/PTS text file (PTS may start with a count line)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                tokens = line.split("#", 1)[0].split()
                if not tokens:
                    continue
                if path.suffix.lower() == ".pts" and len(tokens) == 1:
                    continue
                return len(tokens)
    except OSError as err:
        raise UserError(f"{path}: unreadable ({err.__class__.__name__})") from None
    return 0


def _read_array(path: Path, ext: str) -> np.ndarray:
    try:
        if ext == ".npy":
            return np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            if "points" in names:
                return np.asarray(data["points"], dtype=np.float64)
            if len(names) == 1:
                return np.asarray(data[names[0]], dtype=np.float64)
    except (OSError, ValueError, EOFError) as err:
        raise UserError(f"{path}: unreadable NumPy file ({err.__class__.__name__})") from None
    raise UserError(f"{path}: .npz holds {len(names)} arrays and none named 'points'")


def _read_o3d_cloud(path: Path) -> np.ndarray:
    with _quiet_open3d() as o3d:
        cloud = o3d.io.read_point_cloud(str(path))
    return np.asarray(cloud.points, dtype=np.float64).reshape(-1, 3)


def _read_any_mesh(path: Path, ext: str) -> Mesh:
    """Vertices and faces (faces possibly empty) of an OFF/OBJ/PLY/STL file."""
    if ext == ".off":
        from vgeom.io.off import read_off

        return read_off(path)
    if ext == ".obj":
        from vgeom.io.obj import read_obj

        return read_obj(path)
    with _quiet_open3d() as o3d:
        mesh = o3d.io.read_triangle_mesh(str(path))
    vertices = np.asarray(mesh.vertices, dtype=np.float64).reshape(-1, 3)
    faces = np.asarray(mesh.triangles, dtype=np.int64).reshape(-1, 3)
    if ext == ".ply" and len(vertices) == 0:  # a PLY point cloud (vertices without faces)
        vertices = _read_o3d_cloud(path)
    return Mesh(vertices, faces)


def read_mesh(path: str | os.PathLike[str]) -> Mesh:
    """A triangle mesh with a surface: UserError if the file is missing, unreadable, empty, non-finite,
    2-D, or has no faces of non-zero area."""
    p, ext = _existing(path)
    if ext not in MESH_EXTENSIONS:
        raise UserError(f"{p}: {ext} holds a point cloud; a mesh ({' '.join(MESH_EXTENSIONS)}) is needed")
    return _check_mesh(_read_any_mesh(p, ext), p)


def _check_mesh(mesh: Mesh, p: Path) -> Mesh:
    """Finite 3-D vertices and at least one face of non-zero area."""
    _check_points(mesh.vertices, p)
    if len(mesh.faces) == 0:
        raise UserError(f"{p}: a mesh with no faces (a surface is needed to sample points)")
    v = mesh.vertices[mesh.faces]
    if not np.any(np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1) > 0.0):
        raise UserError(f"{p}: every face of the mesh has zero area")
    return mesh


def read_cloud(
    path: str | os.PathLike[str], points: int | None = None, rng: np.random.Generator | None = None
) -> np.ndarray:
    """A checked point cloud float64 [N, 3] from a cloud or mesh file.

    Point-cloud files are returned as they are. A mesh file with faces is surface-sampled with `points`
    points (area-weighted, drawn from `rng`, default seed 0) when `points` is given, else its vertices
    are returned; a mesh file without faces (an OFF or PLY point set) gives its vertices. Use
    `read_mesh` where a surface is required.
    """
    p, ext = _existing(path)
    if ext in (".npy", ".npz"):
        cloud = _read_array(p, ext)
    elif ext in _TEXT_CLOUDS:
        columns = _text_columns(p)
        if columns == 2:
            raise UserError(f"{p}: 2-D data (2 columns); x y z points are needed")
        cloud = _read_o3d_cloud(p) if columns else np.zeros((0, 3))
    elif ext == ".pcd":
        cloud = _read_o3d_cloud(p)
    else:
        mesh = _read_any_mesh(p, ext)
        if len(mesh.faces) and points is not None:
            surface = _check_mesh(mesh, p)
            return sample_surface(*surface, points, rng if rng is not None else np.random.default_rng(0))
        cloud = mesh.vertices
    return _check_points(cloud, p)


def write_ply(path: str | os.PathLike[str], points: np.ndarray) -> Path:
    """Write [N, 3] points as a binary little-endian PLY (float32 x y z), atomically; returns the path."""
    cloud = np.asarray(points)
    if cloud.ndim != 2 or cloud.shape[1] != 3:
        raise ValueError(f"write_ply expects [N, 3] points, got {cloud.shape}")
    if not np.isfinite(cloud).all():
        raise ValueError("write_ply refuses NaN or Inf coordinates")
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment written by vgeom\n"
        f"element vertex {len(cloud)}\nproperty float x\nproperty float y\nproperty float z\nend_header\n"
    )
    body = np.ascontiguousarray(cloud, dtype="<f4").tobytes()
    with atomic_file(path) as tmp:
        tmp.write_bytes(header.encode("ascii") + body)
    return Path(path)
