"""Triangle-mesh building blocks for the procedural shape families.

Every part is a closed surface with faces oriented outward (positive signed volume
V = Σ_f det[a, b, c] / 6), so a composed shape is a union of closed parts and area-weighted sampling
covers it uniformly. Parts may overlap (no boolean union): as in many ShapeNet models, a leg's top face
can sit inside the seat. Axes: y is up, the front of a chair or the nose of a plane points to −z.

Most parts are "ring surfaces": a stack of closed loops [R, C, 3] joined by quads, closed at both ends
(a fan to the loop's centroid), or joined last-to-first (a torus-like shell). Cylinders, tubes along a
path, surfaces of revolution and superellipsoids (Barr, "Superquadrics and Angle-Preserving
Transformations", IEEE CG&A 1981) are all built that way.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from vgeom.data.mesh import Mesh


def merge(*meshes: Mesh) -> Mesh:
    """One mesh holding all parts (vertex indices offset, nothing welded)."""
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    vertices = np.concatenate([m.vertices for m in meshes], axis=0)
    faces = np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=True)], axis=0)
    return Mesh(vertices, faces)


def rotation(axis: str, angle: float) -> np.ndarray:
    """The 3×3 right-handed rotation by `angle` radians about the x, y or z axis."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def transform(
    mesh: Mesh, rotate: ArrayLike | None = None, translate: ArrayLike | None = None, scale: float = 1.0
) -> Mesh:
    """x -> R (s x) + t; a rotation keeps the faces' orientation."""
    v = mesh.vertices * scale
    if rotate is not None:
        v = v @ np.asarray(rotate).T
    if translate is not None:
        v = v + np.asarray(translate, dtype=np.float64)
    return Mesh(v, mesh.faces)


def mirror_x(mesh: Mesh) -> Mesh:
    """Reflect through the plane x = 0; faces are flipped to stay outward."""
    v = mesh.vertices * np.array([-1.0, 1.0, 1.0])
    return Mesh(v, mesh.faces[:, ::-1].copy())


def signed_volume(mesh: Mesh) -> float:
    """V = Σ_f det[a, b, c] / 6: the enclosed volume of a closed mesh, positive when faces point outward."""
    v = mesh.vertices[mesh.faces]
    return float(np.einsum("fi,fi->f", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6.0)


def orient_outward(mesh: Mesh) -> Mesh:
    """Flip every face when the (closed) mesh has negative signed volume."""
    return mesh if signed_volume(mesh) >= 0.0 else Mesh(mesh.vertices, mesh.faces[:, ::-1].copy())


def drop_degenerate(mesh: Mesh, rel_tol: float = 1e-12) -> Mesh:
    """Remove zero-area faces (e.g. at collapsed poles) and the vertices no face uses."""
    v = mesh.vertices[mesh.faces]
    doubled = np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1)
    extent = float(np.ptp(mesh.vertices, axis=0).max()) if len(mesh.vertices) else 0.0
    faces = mesh.faces[doubled > rel_tol * max(extent, 1e-300) ** 2]
    used, inverse = np.unique(faces, return_inverse=True)
    return Mesh(mesh.vertices[used], inverse.reshape(-1, 3).astype(np.int64))


def ring_surface(rings: np.ndarray, caps: bool = True, loop: bool = False) -> Mesh:
    """Join R closed loops of C points [R, C, 3] by quads; `caps` fans both end loops to their centroid,
    `loop` joins the last loop back to the first instead. Closed results are oriented outward."""
    rings = np.asarray(rings, dtype=np.float64)
    r_count, c_count = rings.shape[:2]
    idx = np.arange(r_count * c_count).reshape(r_count, c_count)
    nxt = np.roll(idx, -1, axis=1)
    rows = r_count if loop else r_count - 1
    a, b = idx[:rows], nxt[:rows]
    c, d = np.roll(nxt, -1, axis=0)[:rows], np.roll(idx, -1, axis=0)[:rows]
    faces = [np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)]
    vertices = [rings.reshape(-1, 3)]
    if caps and not loop:
        centres = np.stack([rings[0].mean(axis=0), rings[-1].mean(axis=0)])
        base = r_count * c_count
        vertices.append(centres)
        faces.append(np.stack([np.full(c_count, base), nxt[0], idx[0]], -1))
        faces.append(np.stack([np.full(c_count, base + 1), idx[-1], nxt[-1]], -1))
    mesh = drop_degenerate(Mesh(np.concatenate(vertices), np.concatenate(faces).astype(np.int64)))
    return orient_outward(mesh) if (caps or loop) else mesh


def _unit_loop(segments: int, exponent: float = 1.0) -> np.ndarray:
    """C points on the superellipse |x|^{2/e} + |z|^{2/e} = 1 (e = 1: the unit circle), [C, 2]."""
    t = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    return np.stack([np.sign(c) * np.abs(c) ** exponent, np.sign(s) * np.abs(s) ** exponent], -1)


def revolution(
    radii: np.ndarray,
    heights: np.ndarray,
    segments: int = 32,
    loop: bool = False,
    exponent: float = 1.0,
    caps: bool = True,
) -> Mesh:
    """Surface of revolution about the y axis of the profile (r_k, y_k); r = 0 points become poles.

    `exponent` ≠ 1 revolves along a superellipse (rounded squares) instead of a circle; `loop` closes a
    profile that does not reach the axis (a shell such as a lampshade).
    """
    unit = _unit_loop(segments, exponent)
    r = np.asarray(radii, dtype=np.float64)[:, None]
    y = np.broadcast_to(np.asarray(heights, dtype=np.float64)[:, None], (len(r), segments))
    rings = np.stack([r * unit[None, :, 0], y, r * unit[None, :, 1]], -1)
    return ring_surface(rings, caps=caps, loop=loop)


def _frames(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parallel-transported normals n_k and binormals b_k along a polyline (Bishop frames)."""
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    helper = np.eye(3)[int(np.argmin(np.abs(tangents[0])))]
    normal = np.cross(tangents[0], helper)
    normal /= np.linalg.norm(normal)
    normals = [normal]
    for t in tangents[1:]:
        normal = normal - np.dot(normal, t) * t
        normal /= np.linalg.norm(normal)
        normals.append(normal)
    n = np.stack(normals)
    return n, np.cross(tangents, n)


def tube(path: ArrayLike, radius: float | ArrayLike, segments: int = 16, caps: bool = True) -> Mesh:
    """A tube of (possibly varying) radius swept along the polyline `path` [K, 3], capped at both ends."""
    path = np.asarray(path, dtype=np.float64)
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(path),))[:, None, None]
    n, b = _frames(path)
    unit = _unit_loop(segments)
    rings = path[:, None, :] + radius * (
        unit[None, :, :1] * n[:, None, :] + unit[None, :, 1:] * b[:, None, :]
    )
    return ring_surface(rings, caps=caps)


def cylinder(p0: ArrayLike, p1: ArrayLike, r0: float, r1: float | None = None, segments: int = 20) -> Mesh:
    """A capped cylinder (a frustum when r1 ≠ r0) from p0 to p1."""
    path = np.stack([np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)])
    return tube(path, np.array([r0, r0 if r1 is None else r1]), segments=segments)


def hexahedron(corners: ArrayLike) -> Mesh:
    """A closed six-faced solid from 8 corners: a bottom quad then the matching top quad."""
    c = np.asarray(corners, dtype=np.float64).reshape(8, 3)
    rings = np.stack([c[:4], c[4:]])
    return ring_surface(rings, caps=True)


def box(center: ArrayLike, size: ArrayLike) -> Mesh:
    """An axis-aligned box with the given centre and edge lengths."""
    half = 0.5 * np.asarray(size, dtype=np.float64)
    sx, sz = np.array([-1, 1, 1, -1.0]), np.array([-1, -1, 1, 1.0])
    bottom = np.stack([sx * half[0], np.full(4, -half[1]), sz * half[2]], -1)
    top = bottom * np.array([1.0, -1.0, 1.0])
    return transform(hexahedron(np.concatenate([bottom, top])), translate=np.asarray(center, dtype=float))


def superellipsoid(
    center: ArrayLike, radii: ArrayLike, e1: float, e2: float, rings: int = 16, segments: int = 24
) -> Mesh:
    """Barr's superellipsoid: (|x/a|^{2/e2} + |z/c|^{2/e2})^{e2/e1} + |y/b|^{2/e1} = 1.

    e1 shapes the vertical profile and e2 the horizontal cross-section (1, 1: an ellipsoid; → 0: a box).
    """
    eta = np.linspace(-0.5 * np.pi, 0.5 * np.pi, rings + 1)
    ce, se = np.cos(eta), np.sin(eta)
    cos_term = np.abs(ce) ** e1
    sin_term = np.sign(se) * np.abs(se) ** e1
    unit = _unit_loop(segments, e2)
    a, b, c = np.asarray(radii, dtype=np.float64)
    pts = np.stack(
        [
            a * cos_term[:, None] * unit[None, :, 0],
            b * np.broadcast_to(sin_term[:, None], (len(eta), segments)),
            c * cos_term[:, None] * unit[None, :, 1],
        ],
        -1,
    )
    return transform(ring_surface(pts, caps=True), translate=np.asarray(center, dtype=float))
