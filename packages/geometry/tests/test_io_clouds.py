"""Reading clouds and meshes (open3d and own readers), writing PLY, and every bad-input case as a UserError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vcore.errors import UserError
from vgeom.data.procedural.primitives import box
from vgeom.io.clouds import read_cloud, read_mesh, supported_extensions, write_ply

CUBE_OBJ = """# unit cube, quads
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
f 1 4 3 2
f 5 6 7 8
f 1 2 6 5
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
"""


def _off(mesh_v: np.ndarray, mesh_f: np.ndarray) -> str:
    lines = ["OFF", f"{len(mesh_v)} {len(mesh_f)} 0"]
    lines += [" ".join(f"{x:.17g}" for x in v) for v in mesh_v]
    lines += ["3 " + " ".join(str(i) for i in f) for f in mesh_f]
    return "\n".join(lines) + "\n"


def test_write_ply_round_trip_is_exact_in_float32(tmp_path: Path) -> None:
    cloud = np.random.default_rng(0).normal(size=(257, 3)).astype(np.float32)
    path = write_ply(tmp_path / "out" / "cloud.ply", cloud)
    assert path.read_bytes().startswith(b"ply\nformat binary_little_endian 1.0\n")
    np.testing.assert_array_equal(read_cloud(path), cloud.astype(np.float64))
    assert [p.name for p in path.parent.iterdir()] == ["cloud.ply"]  # no temporary left behind


def test_write_ply_refuses_bad_arrays(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NaN"):
        write_ply(tmp_path / "x.ply", np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        write_ply(tmp_path / "x.ply", np.zeros((4, 2)))
    assert not (tmp_path / "x.ply").exists()


def test_text_numpy_and_pcd_clouds(tmp_path: Path) -> None:
    import open3d as o3d

    cloud = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    (tmp_path / "a.xyz").write_text("\n".join(" ".join(str(x) for x in p) for p in cloud) + "\n")
    np.save(tmp_path / "a.npy", cloud)
    np.savez(tmp_path / "a.npz", points=cloud, other=np.zeros(2))
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(cloud))
    o3d.io.write_point_cloud(str(tmp_path / "a.pcd"), pcd)
    for name in ("a.xyz", "a.npy", "a.npz", "a.pcd"):
        np.testing.assert_allclose(read_cloud(tmp_path / name), cloud, atol=1e-12, err_msg=name)


def test_meshes_are_surface_sampled_when_points_are_given(tmp_path: Path) -> None:
    (tmp_path / "cube.obj").write_text(CUBE_OBJ)
    mesh = read_mesh(tmp_path / "cube.obj")
    assert len(mesh.faces) == 12
    pts = read_cloud(tmp_path / "cube.obj", points=3000, rng=np.random.default_rng(0))
    assert pts.shape == (3000, 3)
    on_face = np.isclose(pts, 0.0, atol=1e-9) | np.isclose(pts, 1.0, atol=1e-9)
    assert on_face.any(axis=1).all()  # every point on the cube's surface
    # six faces of equal area: each gets 1/6 of the points (binomial tolerance)
    per_face = [int(np.isclose(pts[:, k], side, atol=1e-9).sum()) for k in range(3) for side in (0.0, 1.0)]
    assert max(abs(c - 500) for c in per_face) < 4 * np.sqrt(3000 * (1 / 6) * (5 / 6))
    assert read_cloud(tmp_path / "cube.obj").shape == (8, 3)  # without `points`: the vertices
    part = box([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    (tmp_path / "box.off").write_text(_off(*part))
    assert read_cloud(tmp_path / "box.off", points=64).shape == (64, 3)


def _write(tmp_path: Path, name: str, content: str | bytes | Callable[[Path], None]) -> Path:
    path = tmp_path / name
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BAD_CLOUDS = [
    ("missing.ply", None, "no such file"),
    ("shape.foo", "1 2 3\n", "unsupported file type '.foo'"),
    ("noise.ply", b"\x00\x01garbage", "not a PLY file"),
    ("empty.xyz", "", "empty point cloud"),
    ("empty.npy", lambda p: np.save(p, np.zeros((0, 3))), "empty point cloud"),
    ("nan.xyz", "0 0 0\n1 nan 2\n3 4 5\n", "1 of 3 points have NaN or Inf"),
    ("inf.npy", lambda p: np.save(p, np.array([[0.0, 0, 0], [1, 2, np.inf]])), "NaN or Inf"),
    ("flat.xyz", "0 0 0\n1 2 0\n3 1 0\n", "2-D data (every point has the same z"),
    ("two.xyz", "0 0\n1 2\n3 1\n", "2-D data (2 columns)"),
    ("two.npy", lambda p: np.save(p, np.ones((5, 2))), "2-D data (2 columns)"),
    ("same.xyz", "1 2 3\n1 2 3\n", "coincide"),
    ("batch.npy", lambda p: np.save(p, np.ones((2, 5, 3))), "expected an [N, 3] array"),
    ("many.npz", lambda p: np.savez(p, a=np.ones((2, 3)), b=np.ones((2, 3))), "none named 'points'"),
    ("corrupt.npy", b"\x93NUMPY garbage", "unreadable NumPy file"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_CLOUDS, ids=[case[0] for case in BAD_CLOUDS])
def test_bad_clouds_raise_user_errors_naming_the_file(
    tmp_path: Path, name: str, content: str | bytes | Callable[[Path], None] | None, message: str
) -> None:
    path = tmp_path / name if content is None else _write(tmp_path, name, content)
    with pytest.raises(UserError) as info:
        read_cloud(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_mesh_errors(tmp_path: Path) -> None:
    no_faces = _write(tmp_path, "points.off", "OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 1\n")
    with pytest.raises(UserError, match="a mesh with no faces") as info:
        read_mesh(no_faces)
    assert str(no_faces) in str(info.value)
    assert read_cloud(no_faces).shape == (3, 3)  # as a cloud it is fine
    flat = _write(tmp_path, "flat.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
    with pytest.raises(UserError, match="2-D data"):
        read_mesh(flat)
    zero = _write(tmp_path, "zero.off", "OFF\n4 1 0\n0 0 0\n1 0 0\n2 0 0\n0 1 1\n3 0 1 2\n")
    with pytest.raises(UserError, match="zero area"):
        read_mesh(zero)
    cloud_file = _write(tmp_path, "c.xyz", "0 0 0\n1 2 3\n")
    with pytest.raises(UserError, match="holds a point cloud"):
        read_mesh(cloud_file)
    nan_mesh = _write(tmp_path, "nan.off", "OFF\n3 1 0\n0 0 0\n1 nan 0\n0 1 1\n3 0 1 2\n")
    with pytest.raises(UserError, match="NaN or Inf"):
        read_cloud(nan_mesh, points=10)


def test_supported_extensions() -> None:
    assert {".ply", ".pcd", ".xyz", ".off", ".obj", ".stl", ".npy", ".npz"} <= set(supported_extensions())
