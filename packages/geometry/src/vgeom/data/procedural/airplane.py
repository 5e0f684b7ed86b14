"""Airplanes: a swept tube fuselage with tapered, swept, dihedral wings, tail surfaces and engines.

Units are fuselage-relative (length 2.5-4), y up, nose towards −z, span along x. Wing geometry follows
the usual planform parameters: root chord c_r, taper ratio λ = c_t / c_r, semi-span b, leading-edge
sweep Λ and dihedral Γ; each half wing is a hexahedral slab of thickness τ·chord. Variety: low/mid/high
wings, conventional or T tails, zero, one or two engines per wing or two at the tail.
"""

from __future__ import annotations

import numpy as np

from vgeom.data.procedural.primitives import Mesh, cylinder, hexahedron, merge, mirror_x, tube


def _half_wing(
    root_x: float,
    root_y: float,
    root_z: float,
    chord: float,
    taper: float,
    span: float,
    sweep: float,
    dihedral: float,
    thickness: float,
) -> Mesh:
    """The right half (x > 0) of a trapezoidal wing from its root leading edge (root_x, root_y, root_z)."""
    tip_chord = taper * chord
    tip = np.array([root_x + span, root_y + span * np.tan(dihedral), root_z + span * np.tan(sweep)])
    root = np.array([root_x, root_y, root_z])
    lower = np.array(
        [
            root + np.array([0.0, -0.5 * thickness * chord, 0.0]),
            tip + np.array([0.0, -0.5 * thickness * tip_chord, 0.0]),
            tip + np.array([0.0, -0.5 * thickness * tip_chord, tip_chord]),
            root + np.array([0.0, -0.5 * thickness * chord, chord]),
        ]
    )
    upper = lower.copy()
    upper[[0, 3], 1] += thickness * chord
    upper[[1, 2], 1] += thickness * tip_chord
    return hexahedron(np.concatenate([lower, upper]))


def _pair(half: Mesh) -> list[Mesh]:
    return [half, mirror_x(half)]


def airplane(rng: np.random.Generator) -> Mesh:
    """An airplane with random fuselage, wing planform, tail layout and engines."""
    length = rng.uniform(2.5, 4.0)
    radius = length * rng.uniform(0.04, 0.075)
    s = np.linspace(0.0, 1.0, 40)
    nose, tail = rng.uniform(0.08, 0.2), rng.uniform(0.2, 0.35)
    tail_end = rng.uniform(0.05, 0.3)
    r = np.full_like(s, radius)
    front = s < nose
    r[front] = radius * np.sqrt(np.clip(1.0 - (1.0 - s[front] / nose) ** 2, 0.0, 1.0))
    u = np.clip((s - (1.0 - tail)) / tail, 0.0, 1.0)
    r = r * (1.0 - (1.0 - tail_end) * u ** rng.uniform(1.0, 2.0))
    rise = rng.uniform(0.2, 0.8) * radius * u**2
    path = np.stack([np.zeros_like(s), rise, (s - 0.5) * length], -1)
    parts = [tube(path, r, segments=20)]

    chord = length * rng.uniform(0.12, 0.28)
    span = length * rng.uniform(0.35, 0.65)
    sweep = rng.uniform(0.0, 0.65)
    wing_y = rng.uniform(-0.6, 0.6) * radius
    wing_z = (rng.uniform(0.3, 0.5) - 0.5) * length
    taper = rng.uniform(0.2, 0.6)
    dihedral = rng.uniform(-0.04, 0.12)
    parts += _pair(
        _half_wing(0.0, wing_y, wing_z, chord, taper, span, sweep, dihedral, rng.uniform(0.06, 0.13))
    )

    tail_z = 0.5 * length - tail * length * rng.uniform(0.3, 0.6)
    tail_top = rise[-1] + tail_end * radius
    fin_h = radius * rng.uniform(1.5, 3.5)
    fin_chord = length * rng.uniform(0.08, 0.16)
    fin_sweep = np.tan(rng.uniform(0.3, 0.8)) * fin_h
    fin_t = 0.1 * fin_chord
    fin_root = np.array([[-fin_t, 0, 0], [fin_t, 0, 0], [fin_t, 0, fin_chord], [-fin_t, 0, fin_chord]])
    fin_tip = fin_root * [0.5, 1, rng.uniform(0.4, 0.8)] + [0, fin_h, fin_sweep]
    fin_base = np.array([0.0, tail_top * 0.5, tail_z])
    parts.append(hexahedron(np.concatenate([fin_root + fin_base, fin_tip + fin_base])))
    t_tail = rng.random() < 0.25
    stab_span = span * rng.uniform(0.25, 0.45)
    stab_chord = fin_chord * rng.uniform(0.7, 1.1)
    stab_y, stab_z = (fin_base[1] + fin_h, tail_z + fin_sweep) if t_tail else (tail_top * 0.5, tail_z)
    parts += _pair(
        _half_wing(0.0, stab_y, stab_z, stab_chord, rng.uniform(0.4, 0.8), stab_span, sweep * 0.9, 0.0, 0.08)
    )

    engines = rng.choice(["none", "wing1", "wing2", "tail"], p=[0.15, 0.45, 0.25, 0.15])
    nacelle_r = radius * rng.uniform(0.3, 0.5)
    nacelle_len = chord * rng.uniform(0.5, 0.9)
    if engines in ("wing1", "wing2"):
        stations = [0.35] if engines == "wing1" else [0.28, 0.6]
        for f in stations:
            x = f * span
            y = wing_y + x * np.tan(dihedral) - 0.06 * chord - nacelle_r
            z = wing_z + x * np.tan(sweep) - 0.4 * nacelle_len
            for sx in (-1.0, 1.0):
                parts.append(
                    cylinder([sx * x, y, z], [sx * x, y, z + nacelle_len], nacelle_r, 0.8 * nacelle_r, 14)
                )
    elif engines == "tail":
        z = tail_z - nacelle_len
        for sx in (-1.0, 1.0):
            x = sx * (radius + 1.2 * nacelle_r)
            parts.append(
                cylinder([x, 0.3 * radius, z], [x, 0.3 * radius, z + nacelle_len], nacelle_r, None, 14)
            )
    return merge(*parts)
