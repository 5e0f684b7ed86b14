"""CGAL's meshes (Debian libcgal-demo) and the screening that drops point sets, flat patches and duplicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vgeom.data.cgal as cgal
from vcore.errors import UserError
from vgeom.data.build import BuildConfig, build_shapes
from vgeom.data.dataset import load_split
from vgeom.data.mesh import Mesh
from vgeom.data.procedural.primitives import box, rotation, transform
from vgeom.data.screening import drop_reason, signature, surface_moments


def test_surface_moments_of_a_box_closed_form() -> None:
    """Uniform measure on the surface of an a×b×c box: area, centre and Var(x) face by face."""
    a, b, c = 1.0, 2.0, 3.0
    mesh = box([1.0, -2.0, 0.5], [a, b, c])
    area, mean, cov = surface_moments(mesh)
    assert area == pytest.approx(2 * (a * b + b * c + c * a), rel=1e-12)
    np.testing.assert_allclose(mean, [1.0, -2.0, 0.5], atol=1e-12)
    # Var(x): faces ⟂ x (area bc each) sit at x = ±a/2; the other four faces spread x uniformly (a²/12).
    var_x = (2 * b * c * (a / 2) ** 2 + 2 * (a * b + a * c) * a**2 / 12) / area
    assert cov[0, 0] == pytest.approx(var_x, rel=1e-12)
    assert abs(cov[0, 1]) < 1e-12


def test_signature_ignores_similarity_and_face_order() -> None:
    mesh = box([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])
    moved = transform(mesh, rotate=rotation("y", 0.7) @ rotation("x", 0.3), translate=[5, 6, 7], scale=2.5)
    order = np.random.default_rng(0).permutation(len(mesh.faces))
    shuffled = Mesh(moved.vertices, moved.faces[order])
    assert signature(shuffled) == signature(mesh)
    assert signature(box([0.0, 0.0, 0.0], [1.0, 2.0, 3.1])) != signature(mesh)


def test_drop_reasons() -> None:
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0.0]])
    assert drop_reason(Mesh(v, np.zeros((0, 3), dtype=np.int64))) == "no faces (a point set)"
    assert drop_reason(Mesh(v, np.array([[0, 1, 2], [1, 3, 2]]))) == "flat (2-D) surface"
    assert drop_reason(Mesh(v, np.array([[0, 0, 1]]))) == "zero surface area"
    assert drop_reason(box([0, 0, 0], [1, 1, 1])) is None


def test_missing_package_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgal.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"libcgal-demo: .*--no-cgal"):
        cgal.find_archive()


@pytest.fixture(scope="module")
def cgal_meshes() -> cgal.RealMeshes:
    try:
        archive = cgal.find_archive()
    except UserError as err:
        pytest.skip(str(err))
    return cgal.load_cgal_meshes(archive)


def test_cgal_meshes_load_and_screen(cgal_meshes: cgal.RealMeshes) -> None:
    kept, dropped = cgal_meshes.meshes, cgal_meshes.dropped
    assert len(kept) + len(dropped) == 139  # every .off of the archive, accounted for
    assert {"bunny00", "armadillo", "elephant", "cow", "camel", "ChineseDragon-10kv"} <= set(kept)
    assert dropped["kitten"] == "no faces (a point set)"
    assert dropped["quad"] == "flat (2-D) surface"
    assert dropped["small_cube"].startswith("duplicate of ")  # a scaled copy of the cube
    assert dropped["cube-shuffled"] == dropped["translated-cube"]
    for mesh in kept.values():
        assert drop_reason(mesh) is None
    assert len({signature(m) for m in kept.values()}) == len(kept)


def test_build_with_cgal(
    cgal_meshes: cgal.RealMeshes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgal, "load_cgal_meshes", lambda archive=None: cgal_meshes)
    config = BuildConfig(out=tmp_path / "ds", points=16, per_category=0, include_cgal=True)
    manifest = build_shapes(config, progress=False)
    n = len(cgal_meshes.meshes)
    assert manifest["categories"] == {"cgal": n}
    assert manifest["splits"]["test"] == round(0.1 * n)
    source = next(s for s in manifest["sources"] if s["name"] == "cgal")
    assert source["kept"] == n
    assert source["dropped"] == cgal_meshes.dropped
    test = load_split(tmp_path / "ds", "test")
    assert all(sid.startswith("cgal/") for sid in test.shape_id)
