"""Chairs and tables composed from boxes, cylinders, tubes and superellipsoids with random proportions.

Units are roughly metres, y up, front towards −z. Each function draws every proportion from `rng`, so a
seed fixes the shape. Variety: chairs with four straight or splayed legs, a swivel column on a star base,
or tubular sled runners; solid, slatted or framed backs; optional arms and stretchers. Tables with
rectangular or round tops, four legs (with optional apron and shelf), a pedestal or trestles.
"""

from __future__ import annotations

import numpy as np

from vgeom.data.procedural.primitives import Mesh, box, cylinder, hexahedron, merge, superellipsoid, tube


def _leg(round_leg: bool, top: np.ndarray, bottom: np.ndarray, thickness: float) -> Mesh:
    """A square (box-like frustum) or round leg between two points."""
    if round_leg:
        return cylinder(bottom, top, 0.5 * thickness, 0.5 * thickness, segments=12)
    h = 0.5 * thickness
    square = np.array([[-h, 0.0, -h], [h, 0.0, -h], [h, 0.0, h], [-h, 0.0, h]])
    return hexahedron(np.concatenate([square + bottom, square + top]))


def _four_legs(
    rng: np.random.Generator, width: float, depth: float, height: float, thickness: float, splay: float
) -> list[Mesh]:
    """Legs at the corners of a width × depth rectangle, from y = height down to the floor."""
    round_legs = bool(rng.random() < 0.5)
    inset = rng.uniform(0.0, 0.08) * min(width, depth) + 0.5 * thickness
    parts = []
    for sx in (-1.0, 1.0):
        for sz in (-1.0, 1.0):
            top = np.array([sx * (0.5 * width - inset), height, sz * (0.5 * depth - inset)])
            bottom = top + np.array([sx * splay * height, -height, sz * splay * height])
            parts.append(_leg(round_legs, top, bottom, thickness))
    return parts


def _stretchers(width: float, depth: float, y: float, thickness: float) -> list[Mesh]:
    """Bars joining the legs at height y (H-frame: two sides and one cross bar)."""
    t = 0.6 * thickness
    return [
        box([-0.5 * width + thickness, y, 0.0], [t, t, depth - thickness]),
        box([0.5 * width - thickness, y, 0.0], [t, t, depth - thickness]),
        box([0.0, y, 0.0], [width - thickness, t, t]),
    ]


def chair(rng: np.random.Generator) -> Mesh:
    """A chair: seat, base (legs / swivel / sled), back, optional arms."""
    width, depth = rng.uniform(0.4, 0.62), rng.uniform(0.38, 0.56)
    seat_h, seat_t = rng.uniform(0.36, 0.5), rng.uniform(0.025, 0.09)
    parts: list[Mesh] = []
    if rng.random() < 0.3:  # cushion-like seat
        parts.append(
            superellipsoid([0, seat_h, 0], [width / 2, seat_t / 2, depth / 2], rng.uniform(0.15, 0.5), 0.2)
        )
    else:
        parts.append(box([0, seat_h, 0], [width, seat_t, depth]))
    base = rng.choice(["legs", "legs", "legs", "swivel", "sled"])
    leg_top = seat_h - 0.5 * seat_t
    if base == "legs":
        leg_t = rng.uniform(0.022, 0.065)
        parts += _four_legs(rng, width, depth, leg_top, leg_t, rng.uniform(0.0, 0.12))
        if rng.random() < 0.4:
            parts += _stretchers(width, depth, rng.uniform(0.08, 0.4) * leg_top, leg_t)
    elif base == "swivel":
        column_r = rng.uniform(0.02, 0.045)
        foot_y = rng.uniform(0.05, 0.1)
        parts.append(cylinder([0, foot_y, 0], [0, leg_top, 0], column_r))
        spokes = int(rng.integers(4, 6))
        reach = rng.uniform(0.22, 0.34)
        phase = rng.uniform(0, 2 * np.pi)
        for k in range(spokes):
            a = phase + 2 * np.pi * k / spokes
            end = np.array([reach * np.cos(a), 0.035, reach * np.sin(a)])
            parts.append(cylinder([0, foot_y, 0], end, rng.uniform(0.012, 0.02), 0.012, segments=8))
            parts.append(superellipsoid(end - [0, 0.012, 0], [0.025, 0.022, 0.025], 1.0, 1.0, 6, 10))
    else:  # sled: one U-shaped tube per side
        r = rng.uniform(0.009, 0.018)
        for sx in (-1.0, 1.0):
            x = sx * (0.5 * width - r)
            path = np.array(
                [[x, leg_top, -0.5 * depth + r], [x, r, -0.5 * depth - 0.03], [x, r, 0.5 * depth + 0.03]]
            )
            path = np.concatenate([path, [[x, leg_top, 0.5 * depth - r]]])
            parts.append(tube(_densify(path), r, segments=10))
    back_h, back_t = rng.uniform(0.25, 0.6), rng.uniform(0.02, 0.06)
    tilt = rng.uniform(0.0, 0.3)
    back_bottom = np.array([0.0, seat_h + 0.5 * seat_t, 0.5 * depth - 0.5 * back_t])
    lean = np.array([0.0, np.cos(tilt), np.sin(tilt)])
    style = rng.choice(["solid", "slats", "frame"])
    if style == "solid":
        centre = back_bottom + 0.5 * back_h * lean
        panel = superellipsoid([0, 0, 0], [width / 2, back_h / 2, back_t / 2], rng.uniform(0.1, 0.6), 0.15)
        parts.append(_tilted(panel, tilt, centre))
    else:
        post_t = rng.uniform(0.02, 0.045)
        for sx in (-1.0, 1.0):
            p0 = back_bottom + np.array([sx * (0.5 * width - 0.5 * post_t), 0, 0])
            parts.append(_leg(False, p0 + back_h * lean, p0, post_t))
        rail_h = rng.uniform(0.04, 0.14)
        top_centre = back_bottom + (back_h - 0.5 * rail_h) * lean
        parts.append(_tilted(box([0, 0, 0], [width, rail_h, back_t]), tilt, top_centre))
        if style == "slats":
            count = int(rng.integers(2, 6))
            for k in range(count):
                x = (k + 1) / (count + 1) * (width - post_t) - 0.5 * (width - post_t)
                slat_w = rng.uniform(0.012, 0.6 * (width - post_t) / (count + 1))
                centre = back_bottom + np.array([x, 0, 0]) + 0.5 * (back_h - rail_h) * lean
                parts.append(_tilted(box([0, 0, 0], [slat_w, back_h - rail_h, 0.6 * back_t]), tilt, centre))
    if rng.random() < 0.35:  # arms: a rest on two posts per side
        arm_h, arm_w = rng.uniform(0.16, 0.28), rng.uniform(0.03, 0.07)
        for sx in (-1.0, 1.0):
            x = sx * (0.5 * width - 0.5 * arm_w)
            y = seat_h + arm_h
            parts.append(box([x, y, 0.05 * depth], [arm_w, 0.03, 0.9 * depth]))
            parts.append(box([x, seat_h + 0.5 * arm_h, -0.35 * depth], [0.7 * arm_w, arm_h, 0.7 * arm_w]))
    return merge(*parts)


def _tilted(mesh: Mesh, tilt: float, centre: np.ndarray) -> Mesh:
    """Rotate about x by `tilt` (leaning backwards, towards +z) and move to `centre`."""
    c, s = np.cos(tilt), np.sin(tilt)
    rot = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return Mesh(mesh.vertices @ rot.T + centre, mesh.faces)


def _densify(path: np.ndarray, passes: int = 2) -> np.ndarray:
    """Round the corners of a polyline by Chaikin's corner cutting (Chaikin, 1974), ends kept."""
    pts = np.asarray(path, dtype=np.float64)
    for _ in range(passes):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        pts = np.concatenate([pts[:1], np.stack([q, r], 1).reshape(-1, 3), pts[-1:]])
    return pts


def table(rng: np.random.Generator) -> Mesh:
    """A table: rectangular or round top on four legs, a pedestal or two trestles."""
    height = rng.choice([rng.uniform(0.38, 0.5), rng.uniform(0.68, 0.8)], p=[0.3, 0.7])
    top_t = rng.uniform(0.02, 0.07)
    round_top = bool(rng.random() < 0.35)
    if round_top:
        radius = rng.uniform(0.35, 0.7)
        width = depth = 2 * radius
        parts = [cylinder([0, height - top_t, 0], [0, height, 0], radius, segments=40)]
    else:
        width, depth = rng.uniform(0.7, 1.9), rng.uniform(0.45, 1.0)
        parts = [box([0, height - 0.5 * top_t, 0], [width, top_t, depth])]
    under = height - top_t
    base = rng.choice(["legs", "pedestal"] if round_top else ["legs", "legs", "pedestal", "trestle"])
    if base == "legs":
        leg_t = rng.uniform(0.03, 0.09)
        scale = 0.7 if round_top else 1.0
        parts += _four_legs(rng, scale * width, scale * depth, under, leg_t, rng.uniform(0.0, 0.06))
        if not round_top and rng.random() < 0.5:  # apron
            apron_h = rng.uniform(0.05, 0.12)
            inset = 0.05 * min(width, depth) + leg_t
            for sz in (-1.0, 1.0):
                parts.append(
                    box(
                        [0, under - apron_h / 2, sz * (depth / 2 - inset)], [width - 2 * inset, apron_h, 0.02]
                    )
                )
        if rng.random() < 0.3:  # lower shelf
            y = rng.uniform(0.1, 0.35) * under
            parts.append(box([0, y, 0], [0.85 * scale * width, 0.02, 0.85 * scale * depth]))
    elif base == "pedestal":
        column_r = rng.uniform(0.03, 0.09)
        foot = rng.uniform(0.2, 0.45) * min(width, depth)
        parts.append(cylinder([0, 0.03, 0], [0, under, 0], column_r, column_r * rng.uniform(0.6, 1.2)))
        if rng.random() < 0.5:
            parts.append(cylinder([0, 0, 0], [0, rng.uniform(0.02, 0.06), 0], foot, foot * 0.85, segments=32))
        else:
            for angle in (0.0, 0.5 * np.pi):
                arm = np.array([np.cos(angle), 0.0, np.sin(angle)]) * foot
                lift = np.array([0.0, 0.025, 0.0])
                parts.append(cylinder(lift - arm, lift + arm, 0.025, segments=4))
    else:  # trestle: two end panels and a stretcher
        panel_t = rng.uniform(0.03, 0.08)
        for sx in (-1.0, 1.0):
            x = sx * (0.5 * width - rng.uniform(0.05, 0.2) * width)
            parts.append(box([x, under / 2, 0], [panel_t, under, rng.uniform(0.6, 0.9) * depth]))
            parts.append(box([x, 0.02, 0], [panel_t * 2, 0.04, 0.9 * depth]))
        stretch_y = rng.uniform(0.15, 0.6) * under
        parts.append(box([0, stretch_y, 0], [0.7 * width, 0.05, 0.04]))
    return merge(*parts)
