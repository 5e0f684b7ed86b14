"""Object File Format (OFF) reader: vertices, polygons fan-triangulated, colours ignored.

Format (Geomview): an optional header keyword among OFF, COFF, NOFF, CNOFF, STOFF ... (counts may follow
on the same line), then `V F E`, V lines `x y z [extra]`, F lines `n i_1 ... i_n [colour]`; `#` starts a
comment. open3d 0.20 rejects files with per-vertex colours and polygons it cannot ear-clip (several
meshes of CGAL's data set), so OFF is parsed here. A polygon (i_1, ..., i_n) becomes the triangles
(i_1, i_k, i_{k+1}), k = 2 .. n−1; that keeps the polygon's area for convex polygons, which OFF files
almost always hold.
"""

from __future__ import annotations

import os

import numpy as np

from vcore.errors import UserError
from vgeom.data.mesh import Mesh
from vgeom.io.text_file import read_mesh_text


def _content_lines(text: str) -> list[str]:
    if "#" not in text:
        return [line for line in (raw.strip() for raw in text.splitlines()) if line]
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def _vertex_block(lines: list[str], name: str) -> np.ndarray:
    """[V, 3] coordinates; one C-level parse when every line holds exactly x y z."""
    try:
        flat = np.array(" ".join(lines).split(), dtype=np.float64)
        if flat.size == 3 * len(lines):
            return flat.reshape(-1, 3)
    except ValueError:
        pass
    try:
        return np.array([line.split()[:3] for line in lines], dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise UserError(f"{name}: malformed OFF vertex line") from None


def _face_block(lines: list[str], name: str) -> np.ndarray:
    """[F', 3] triangles; one parse when every line is `3 i j k`, else polygon by polygon."""
    try:
        flat = np.array(" ".join(lines).split(), dtype=np.int64)
        if flat.size == 4 * len(lines) and (flat[::4] == 3).all():
            return flat.reshape(-1, 4)[:, 1:]
    except ValueError:
        pass  # colours (floats) or polygons: the general path below
    fans: list[list[int]] = []
    try:
        for line in lines:
            row = line.split()
            k = int(row[0])
            if len(row) < k + 1:
                raise UserError(f"{name}: OFF face line lists fewer than {k} vertices")
            polygon = [int(p) for p in row[1 : 1 + k]]
            fans.extend([polygon[0], polygon[i], polygon[i + 1]] for i in range(1, k - 1))
    except ValueError:
        raise UserError(f"{name}: malformed OFF face line {line[:60]!r}") from None
    return np.array(fans, dtype=np.int64)


def parse_off(text: str, name: str = "<OFF>") -> Mesh:
    """Parse OFF text into a Mesh (faces may be empty for a point set); UserError naming `name` if malformed."""
    lines = _content_lines(text)
    if not lines:
        raise UserError(f"{name}: empty OFF file")
    tokens = lines[0].split()
    if not tokens[0].upper().endswith("OFF"):
        raise UserError(f"{name}: not an OFF file (header {tokens[0]!r})")
    if "BINARY" in (t.upper() for t in tokens) or tokens[0].lstrip("STCN").startswith(("4", "n")):
        raise UserError(f"{name}: unsupported OFF variant {lines[0]!r}")
    counts = tokens[1:]
    body = lines[1:]
    if not counts:
        if not body:
            raise UserError(f"{name}: OFF header without vertex and face counts")
        counts, body = body[0].split(), body[1:]
    try:
        n_vertices, n_faces = int(counts[0]), int(counts[1])
    except (IndexError, ValueError):
        raise UserError(f"{name}: bad OFF counts line {' '.join(counts)!r}") from None
    if n_vertices < 0 or n_faces < 0 or len(body) < n_vertices + n_faces:
        raise UserError(f"{name}: OFF file is truncated ({len(body)} lines for {n_vertices} + {n_faces})")
    vertices = _vertex_block(body[:n_vertices], name)
    triangles = _face_block(body[n_vertices : n_vertices + n_faces], name)
    faces = triangles.reshape(-1, 3)
    if len(faces) and (faces.min() < 0 or faces.max() >= n_vertices):
        raise UserError(f"{name}: OFF face indexes a vertex out of range (0..{n_vertices - 1})")
    return Mesh(vertices, faces)


def read_off(path: str | os.PathLike[str]) -> Mesh:
    """Read an OFF file; UserError naming the file if it is missing, not text or malformed."""
    return parse_off(read_mesh_text(path, "OFF"), str(path))
