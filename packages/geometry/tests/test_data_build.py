"""The dataset builder and `vgeom data shapes`: determinism, the split, the format, user folders, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from vcore.errors import UserError
from vgeom.commands.data import data_app
from vgeom.data.build import BuildConfig, build_shapes, shape_rng, split_shapes
from vgeom.data.dataset import FORMAT, SPLITS, ShapeSplit, load_split, read_manifest
from vgeom.data.procedural import generate
from vgeom.data.sampling import sample_surface

SMALL: dict[str, Any] = {
    "points": 48,
    "per_category": 10,
    "categories": ("chair", "vase", "airplane"),
    "include_cgal": False,
}


def _build(out: Path, seed: int = 3, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {**SMALL, **overrides}
    return build_shapes(BuildConfig(out=out, seed=seed, **options), progress=False)


def _load_all(out: Path) -> dict[str, ShapeSplit]:
    return {name: load_split(out, name) for name in SPLITS}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    _build(tmp_path / "a")
    _build(tmp_path / "b")
    _build(tmp_path / "c", seed=4)
    for name in (*(f"{s}.npz" for s in SPLITS), "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "train.npz").read_bytes() != (tmp_path / "c" / "train.npz").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]  # no temporary folders left


def test_manifest_split_and_arrays(tmp_path: Path) -> None:
    manifest = _build(tmp_path / "d")
    assert read_manifest(tmp_path / "d") == manifest
    assert manifest["format"] == FORMAT
    assert manifest["points"] == 48
    assert manifest["seed"] == 3
    assert manifest["normalization"]["mode"] == "shape_unit"
    assert manifest["categories"] == {"airplane": 10, "chair": 10, "vase": 10}
    assert manifest["splits"] == {"train": 24, "val": 3, "test": 3}
    # stratified: 8 / 1 / 1 of every category
    assert manifest["split_categories"]["test"] == {"airplane": 1, "chair": 1, "vase": 1}
    splits = _load_all(tmp_path / "d")
    ids = [set(splits[s].shape_id.tolist()) for s in SPLITS]
    assert not (ids[0] & ids[1])
    assert not (ids[0] & ids[2])
    assert not (ids[1] & ids[2])
    assert len(ids[0] | ids[1] | ids[2]) == 30
    train = splits["train"]
    assert train.points.dtype == np.float32
    assert train.points.shape == (24, 48, 3)
    # every cloud normalised: mean point 0, one std 1 (float32 storage)
    np.testing.assert_allclose(train.points.mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(train.points.reshape(24, -1).std(axis=1), 1.0, atol=1e-5)


def test_stored_shapes_undo_to_the_regenerated_surface_samples(tmp_path: Path) -> None:
    _build(tmp_path / "e")
    split = load_split(tmp_path / "e", "val", category="vase")
    assert len(split) == 1
    assert set(split.category) == {"vase"}
    shape_id = str(split.shape_id[0])
    rng = shape_rng(3, shape_id)
    raw = sample_surface(*generate("vase", rng), 48, rng)
    np.testing.assert_allclose(split.original()[0], raw, rtol=1e-5, atol=1e-6)


def test_shapes_do_not_depend_on_how_many_are_built(tmp_path: Path) -> None:
    small = _build(tmp_path / "f", per_category=4, categories=("chair",))
    assert small["categories"] == {"chair": 4}
    _build(tmp_path / "g", per_category=10, categories=("chair",))
    few = {sid: p for s in SPLITS for sid, p in zip(*_ids_points(tmp_path / "f", s), strict=True)}
    many = {sid: p for s in SPLITS for sid, p in zip(*_ids_points(tmp_path / "g", s), strict=True)}
    assert set(few) <= set(many)
    for sid, points in few.items():
        np.testing.assert_array_equal(points, many[sid])


def _ids_points(out: Path, split: str) -> tuple[list[str], np.ndarray]:
    data = load_split(out, split)
    return data.shape_id.tolist(), data.points


def test_split_counts_small_categories() -> None:
    cats = np.array(["a"] * 2 + ["b"] * 3 + ["c"] * 25)
    parts = split_shapes(cats, seed=0)
    count = {name: {c: int((cats[idx] == c).sum()) for c in "abc"} for name, idx in parts.items()}
    assert count["test"] == {"a": 0, "b": 1, "c": 2}
    assert count["val"] == {"a": 0, "b": 1, "c": 2}
    assert count["train"] == {"a": 2, "b": 1, "c": 21}
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(30))


def test_user_folder_categories_from_subfolders(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    (folder / "pyramid").mkdir(parents=True)
    (folder / "scan").mkdir()
    pyramid = "OFF\n4 4 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n"
    (folder / "pyramid" / "p1.off").write_text(pyramid)
    (folder / "pyramid" / "p2.obj").write_text(
        "v 0 0 0\nv 2 0 0\nv 0 2 0\nv 0 0 2\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"
    )
    (folder / "scan" / "s.xyz").write_text("0 0 0\n1 0 0\n0 1 0\n0 0 1\n1 1 1\n")
    (folder / "notes.txt").write_text("ignored")
    manifest = _build(tmp_path / "h", per_category=0, meshes=folder)
    assert manifest["categories"] == {"pyramid": 2, "scan": 1}
    everything = np.concatenate([load_split(tmp_path / "h", s).shape_id for s in SPLITS]).tolist()
    assert sorted(everything) == ["user/pyramid/p1", "user/pyramid/p2", "user/scan/s"]


def test_builder_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown sofa"):
        _build(tmp_path / "x", categories=("chair", "sofa"))
    with pytest.raises(UserError, match="nothing to build"):
        _build(tmp_path / "x", per_category=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no mesh or point-cloud files"):
        _build(tmp_path / "x", meshes=tmp_path / "empty")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "precious.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a vgeom dataset; refusing"):
        _build(occupied)
    assert (occupied / "precious.txt").read_text() == "keep me"
    bad = tmp_path / "bad"
    (bad / "x").mkdir(parents=True)
    (bad / "x" / "nan.xyz").write_text("0 0 0\nnan 1 2\n1 1 1\n")
    with pytest.raises(UserError, match=r"nan\.xyz: 1 of 3 points have NaN"):
        _build(tmp_path / "y", per_category=0, meshes=bad)
    assert not (tmp_path / "y").exists()  # nothing partially written


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such dataset folder"):
        read_manifest(tmp_path / "nope")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "manifest.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(UserError, match="'other/9' is not 'vgeom-shapes/1'"):
        read_manifest(tmp_path / "m")
    _build(tmp_path / "ok", per_category=3, categories=("chair",))
    with pytest.raises(UserError, match="unknown split"):
        load_split(tmp_path / "ok", "dev")
    with pytest.raises(UserError, match="unknown category 'lamp'"):
        load_split(tmp_path / "ok", "train", category="lamp")


def test_cli_builds_and_reports(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["shapes", "--out", str(out), "--points", "32", "--per-category", "3", "--seed", "1"]
    result = runner.invoke(data_app, [*args, "--categories", "lamp,table", "--no-cgal", "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["categories"] == {"lamp": 3, "table": 3}
    assert read_manifest(out)["splits"] == {"train": 2, "val": 2, "test": 2}
    failed = runner.invoke(data_app, [*args, "--categories", "sofa", "--no-cgal", "--quiet"])
    assert failed.exit_code == 2
    assert "error: --categories: unknown sofa" in failed.output
    assert runner.invoke(data_app, ["shapes", "--help"]).exit_code == 0
