"""Wavefront OBJ reader for geometry only: `v x y z` and `f` polygons, fan-triangulated.

open3d 0.20 reads OBJ through Assimp without triangulating and silently drops every polygon with more
than three corners (a cube of quads comes back empty), so OBJ is parsed here. Face corners may be
`i`, `i/t`, `i//n` or `i/t/n`, 1-based, or negative (relative to the vertices read so far); normals,
texture coordinates, groups and materials are ignored. A polygon (c_1, ..., c_n) becomes the triangles
(c_1, c_k, c_{k+1}), k = 2 .. n−1.
"""

from __future__ import annotations

import os

import numpy as np

from vcore.errors import UserError
from vgeom.data.mesh import Mesh
from vgeom.io.text_file import read_mesh_text


def parse_obj(text: str, name: str = "<OBJ>") -> Mesh:
    """Vertices and triangles of OBJ text; UserError naming `name` for malformed lines."""
    vertices: list[list[str]] = []
    triangles: list[list[int]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        if tokens[0] == "v":
            if len(tokens) < 4:
                raise UserError(f"{name}: line {number}: a vertex needs x y z")
            vertices.append(tokens[1:4])
        elif tokens[0] == "f":
            try:
                corners = [int(corner.split("/", 1)[0]) for corner in tokens[1:]]
            except ValueError:
                raise UserError(f"{name}: line {number}: malformed face {raw.strip()[:60]!r}") from None
            if len(corners) < 3 or 0 in corners:
                raise UserError(f"{name}: line {number}: a face needs three or more 1-based vertex indices")
            index = [c - 1 if c > 0 else len(vertices) + c for c in corners]
            triangles.extend([index[0], index[k], index[k + 1]] for k in range(1, len(index) - 1))
    try:
        v = np.array(vertices, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise UserError(f"{name}: malformed vertex coordinates") from None
    faces = np.array(triangles, dtype=np.int64).reshape(-1, 3)
    if len(faces) and (faces.min() < 0 or faces.max() >= len(v)):
        raise UserError(f"{name}: a face indexes a vertex out of range (1..{len(v)})")
    return Mesh(v, faces)


def read_obj(path: str | os.PathLike[str]) -> Mesh:
    """Read an OBJ file; UserError naming the file if it is missing, not text or malformed."""
    return parse_obj(read_mesh_text(path, "OBJ"), str(path))
