"""Vases, bottles, mugs and lamps: surfaces of revolution of random profiles, plus tubes and discs.

A profile is a polyline (r_k, y_k) revolved about the y axis. Smooth random outlines come from
shape-preserving piecewise-cubic (PCHIP) interpolation of a few random control radii (Fritsch & Carlson,
"Monotone Piecewise Cubic Interpolation", SIAM J. Numer. Anal. 1980), so radii stay positive between
positive controls. Hollow objects (vases, mugs) revolve a closed outline that goes up the outside, over
the lip and down the inside, so the surface is closed and has a wall thickness; lampshades are shells
that never reach the axis (revolved with `loop=True`). A superellipse exponent < 1 gives rounded-square
cross-sections (square vases and bottles).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

from vgeom.data.procedural.primitives import (
    Mesh,
    box,
    cylinder,
    merge,
    revolution,
    rotation,
    superellipsoid,
    transform,
    tube,
)

_SAMPLES = 24


def _outline(rng: np.random.Generator, height: float, controls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smooth radii r(y) at `_SAMPLES` heights through `controls` radii at jittered, increasing heights."""
    k = len(controls)
    knots = np.linspace(0.0, 1.0, k)
    knots[1:-1] += rng.uniform(-0.3, 0.3, k - 2) / (k - 1)
    y = np.linspace(0.0, height, _SAMPLES)
    return PchipInterpolator(knots * height, controls)(y), y


def _hollow(
    radii: np.ndarray, heights: np.ndarray, wall: float, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """A closed profile: axis -> outside up -> lip -> inside down to the floor -> axis."""
    inner = heights > floor
    r = np.concatenate([[0.0], radii, np.maximum(radii[inner][::-1] - wall, 0.2 * wall), [0.0]])
    y = np.concatenate([[0.0], heights, heights[inner][::-1], [floor]])
    inner_floor_r = max(float(np.interp(floor, heights, radii)) - wall, 0.2 * wall)
    r = np.insert(r, -1, inner_floor_r)
    y = np.insert(y, -1, floor)
    return r, y


def _square_exponent(rng: np.random.Generator, p: float) -> float:
    return float(rng.uniform(0.25, 0.6)) if rng.random() < p else 1.0


def vase(rng: np.random.Generator) -> Mesh:
    """A hollow vase with a random smooth outline (amphora, bulb, cylinder or flared bowl)."""
    height = rng.uniform(0.2, 0.6)
    s = height * rng.uniform(0.18, 0.42)
    style = rng.choice(["amphora", "bulb", "cylinder", "flared"])
    if style == "amphora":
        controls = s * np.array([0.5, 1.0, 0.9, 0.35, 0.5]) * rng.uniform(0.8, 1.2, 5)
    elif style == "bulb":
        controls = s * np.array([0.6, 1.1, 0.6, 0.3]) * rng.uniform(0.8, 1.2, 4)
    elif style == "cylinder":
        controls = s * np.array([0.8, 0.8, 0.8]) * rng.uniform(0.85, 1.15, 3)
    else:
        height *= 0.6
        controls = s * np.array([0.4, 0.7, 1.2, 1.6]) * rng.uniform(0.85, 1.15, 4)
    radii, ys = _outline(rng, height, controls)
    wall = rng.uniform(0.03, 0.08) * float(radii.min())
    r, y = _hollow(radii, ys, wall, floor=rng.uniform(0.02, 0.08) * height)
    return revolution(r, y, segments=32, exponent=_square_exponent(rng, 0.2))


def bottle(rng: np.random.Generator) -> Mesh:
    """A closed bottle: body, rounded shoulder, neck, lip and cap."""
    body_r = rng.uniform(0.03, 0.06)
    body_h = body_r * rng.uniform(2.0, 5.0)
    shoulder_h = body_r * rng.uniform(0.4, 2.0)
    neck_r = body_r * rng.uniform(0.22, 0.45)
    neck_h = body_r * rng.uniform(0.6, 2.5)
    t = np.linspace(0.0, 0.5 * np.pi, 8)
    shoulder_r = neck_r + (body_r - neck_r) * np.cos(t) ** rng.uniform(0.6, 1.5)
    base_round = 0.08 * body_r
    cap_r, cap_h = neck_r * rng.uniform(1.0, 1.3), neck_r * rng.uniform(0.6, 1.6)
    r = np.concatenate(
        [
            [0.0, body_r - base_round, body_r, body_r * rng.uniform(0.9, 1.05)],
            shoulder_r,
            [neck_r, cap_r, cap_r, 0.0],
        ]
    )
    top = body_h + shoulder_h + neck_h
    y = np.concatenate(
        [
            [0.0, 0.0, base_round, body_h],
            body_h + shoulder_h * np.sin(t),
            [top, top, top + cap_h, top + cap_h],
        ]
    )
    return revolution(r, y, segments=28, exponent=_square_exponent(rng, 0.2))


def mug(rng: np.random.Generator) -> Mesh:
    """A mug: a hollow, slightly tapered cup with a C- or D-shaped handle."""
    radius = rng.uniform(0.035, 0.055)
    height = radius * rng.uniform(1.4, 3.0)
    controls = radius * np.array([rng.uniform(0.8, 1.05), 1.0, rng.uniform(0.9, 1.2)])
    radii, ys = _outline(rng, height, controls)
    wall = rng.uniform(0.05, 0.12) * radius
    r, y = _hollow(radii, ys, wall, floor=rng.uniform(0.05, 0.12) * height)
    cup = revolution(r, y, segments=32)
    reach = radius * rng.uniform(0.5, 1.0)
    half_h = 0.5 * height * rng.uniform(0.5, 0.85)
    centre_y = 0.5 * height + rng.uniform(-0.08, 0.08) * height
    angles = np.linspace(0.5 * np.pi, -0.5 * np.pi, 20)
    shape = rng.uniform(0.5, 2.0)  # < 1: boxy D handle, > 1: pointed C handle
    cos_a = np.sign(np.cos(angles)) * np.abs(np.cos(angles)) ** (1.0 / shape)
    path = np.stack([radius - 0.5 * wall + reach * cos_a, centre_y + half_h * np.sin(angles), 0 * angles], -1)
    handle = tube(path, radius * rng.uniform(0.1, 0.22), segments=10)
    return merge(cup, handle)


def _shade(rng: np.random.Generator) -> Mesh:
    """A thin-walled lampshade (cone, drum or dome) opening downwards, top at y = its height."""
    style = rng.choice(["cone", "drum", "dome"])
    bottom_r = rng.uniform(0.1, 0.25)
    height = bottom_r * rng.uniform(0.6, 1.4)
    wall = 0.04 * bottom_r
    if style == "dome":
        t = np.linspace(0.0, 0.5 * np.pi, 10)
        outer_r, outer_y = bottom_r * np.cos(t) + 0.15 * bottom_r, height * np.sin(t)
    else:
        top_r = bottom_r * (rng.uniform(0.4, 0.75) if style == "cone" else rng.uniform(0.85, 1.0))
        outer_r, outer_y = np.array([bottom_r, top_r]), np.array([0.0, height])
    r = np.concatenate([outer_r, outer_r[::-1] - wall])
    y = np.concatenate([outer_y, outer_y[::-1]])
    return revolution(r, y, segments=32, loop=True)


def lamp(rng: np.random.Generator) -> Mesh:
    """A floor, table or desk lamp: base, stem or articulated arm, and shade."""
    style = rng.choice(["floor", "table", "desk"])
    base_r = rng.uniform(0.08, 0.18)
    base_h = rng.uniform(0.015, 0.05)
    kind = rng.choice(["disc", "dome", "square"])
    if kind == "disc":
        parts = [cylinder([0, 0, 0], [0, base_h, 0], base_r, base_r * rng.uniform(0.7, 1.0), segments=32)]
    elif kind == "dome":
        parts = [superellipsoid([0, 0, 0], [base_r, 2 * base_h, base_r], rng.uniform(0.6, 1.0), 1.0)]
    else:
        parts = [box([0, 0.5 * base_h, 0], [1.6 * base_r, base_h, 1.6 * base_r])]
    stem_r = rng.uniform(0.008, 0.02)
    shade = _shade(rng)
    shade_h = float(np.ptp(shade.vertices[:, 1]))
    if style in ("floor", "table"):
        top = rng.uniform(1.1, 1.7) if style == "floor" else rng.uniform(0.25, 0.5)
        if style == "table" and rng.random() < 0.5:  # a turned body instead of a plain stem
            radii, ys = _outline(rng, 0.6 * top, base_r * rng.uniform(0.25, 0.6, 4))
            parts.append(
                revolution(np.concatenate([[0.0], radii, [0.0]]), np.concatenate([[0.0], ys, [ys[-1]]]))
            )
        parts.append(cylinder([0, 0, 0], [0, top, 0], stem_r))
        parts.append(transform(shade, translate=[0.0, top - rng.uniform(0.3, 0.9) * shade_h, 0.0]))
    else:
        lower, upper = rng.uniform(0.25, 0.45), rng.uniform(0.25, 0.45)
        a1, a2 = rng.uniform(-0.5, 0.4), rng.uniform(0.6, 1.6)
        joint = np.array([0.0, lower * np.cos(a1), -lower * np.sin(a1)])
        end = joint + np.array([0.0, upper * np.cos(a2), -upper * np.sin(a2)])
        parts.append(tube(np.stack([[0.0, 0.0, 0.0], joint, end]), stem_r, segments=10))
        parts.append(superellipsoid(joint, [1.8 * stem_r] * 3, 1.0, 1.0, 6, 10))
        tilt = rng.uniform(0.0, 0.9)
        size = rng.uniform(0.5, 0.8)
        head = transform(shade, translate=[0.0, -size * shade_h, 0.0], scale=size)
        parts.append(transform(head, rotate=rotation("x", tilt), translate=end))
    return merge(*parts)
