"""The triangle-mesh value shared by readers, procedural families and the surface sampler."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Mesh(NamedTuple):
    """A triangle mesh: vertices float64 [V, 3], faces int64 [F, 3] (counter-clockwise seen from outside)."""

    vertices: np.ndarray
    faces: np.ndarray
