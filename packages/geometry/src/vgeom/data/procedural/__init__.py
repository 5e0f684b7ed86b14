"""Procedural shape families: each `family(rng) -> Mesh` draws a random shape of one category.

The families fill out categories that the real meshes (CGAL's data set) cannot: several hundred
distinct chairs, tables, airplanes, lamps, vases, bottles and mugs, each from a seed. Every mesh is a
union of closed, outward-oriented triangle surfaces (see `primitives`), y up.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vgeom.data.mesh import Mesh
from vgeom.data.procedural.airplane import airplane
from vgeom.data.procedural.furniture import chair, table
from vgeom.data.procedural.revolved import bottle, lamp, mug, vase

FAMILIES: dict[str, Callable[[np.random.Generator], Mesh]] = {
    "airplane": airplane,
    "bottle": bottle,
    "chair": chair,
    "lamp": lamp,
    "mug": mug,
    "table": table,
    "vase": vase,
}


def generate(category: str, rng: np.random.Generator) -> Mesh:
    """One random mesh of a procedural `category` (a key of FAMILIES)."""
    try:
        family = FAMILIES[category]
    except KeyError:
        raise ValueError(f"unknown procedural category {category!r}; known: {', '.join(FAMILIES)}") from None
    return family(rng)


__all__ = ["FAMILIES", "Mesh", "generate"]
