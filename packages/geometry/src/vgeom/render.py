"""PNG renders of point clouds: a grid of matplotlib 3-D scatter plots (Agg backend, no display needed)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vcore.io.atomic import atomic_file


def render_grid(
    clouds: np.ndarray | Sequence[np.ndarray],
    path: str | os.PathLike[str],
    titles: Sequence[str] | None = None,
    columns: int = 4,
    point_size: float = 1.0,
    panel_inches: float = 2.5,
    dpi: int = 100,
) -> Path:
    """Write one PNG with a 3-D scatter per cloud [N_k, 3], written atomically; returns the path.

    Each panel has equal axis ranges centred on its cloud (shapes keep their proportions), a fixed view
    (elevation 20, azimuth -60), and points coloured by height.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clouds = [np.asarray(c, dtype=np.float64) for c in clouds]
    if not clouds:
        raise ValueError("nothing to render")
    cols = max(1, min(columns, len(clouds)))
    rows = math.ceil(len(clouds) / cols)
    fig = plt.figure(figsize=(panel_inches * cols, panel_inches * rows), dpi=dpi)
    try:
        for k, cloud in enumerate(clouds):
            ax = fig.add_subplot(rows, cols, k + 1, projection="3d")
            if cloud.size:
                centre = 0.5 * (cloud.max(axis=0) + cloud.min(axis=0))
                half = 0.5 * float((cloud.max(axis=0) - cloud.min(axis=0)).max()) or 1.0
                # y up in the data (common for meshes): plot (x, z, y) so that it points up on screen
                ax.scatter(cloud[:, 0], cloud[:, 2], cloud[:, 1], s=point_size, c=cloud[:, 1], cmap="viridis")
                ax.set_xlim(centre[0] - half, centre[0] + half)
                ax.set_ylim(centre[2] - half, centre[2] + half)
                ax.set_zlim(centre[1] - half, centre[1] + half)
            ax.view_init(elev=20, azim=-60)
            ax.set_axis_off()
            if titles is not None and k < len(titles) and titles[k]:
                ax.set_title(titles[k], fontsize=8)
        fig.tight_layout()
        with atomic_file(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return Path(path)
