"""`vgeom eval` through typer's CliRunner on a small app that registers `eval_command`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from vgeom.commands.eval import eval_command

app = typer.Typer(add_completion=False)
app.command("eval")(eval_command)


@app.callback()
def _group() -> None:
    """Test group (so the command is invoked by name, as in vgeom.cli)."""


runner = CliRunner()


def _ellipsoids(seed: int, s: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(s, n, 3))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return (x * rng.uniform(0.5, 1.5, size=(s, 1, 3))).astype(np.float32)


def _npz(path: Path, points: np.ndarray, **extra: np.ndarray) -> Path:
    np.savez(path, points=points, **extra)
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["eval", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_report_on_identical_sets(tmp_path: Path) -> None:
    x = _ellipsoids(0, 6, 48)
    gen = _npz(tmp_path / "gen.npz", x)
    ref = _npz(tmp_path / "ref.npz", x, category=np.array(["a"] * 6))  # extra arrays are ignored
    code, out, _ = _run(str(gen), str(ref), "--json", "--quiet")
    assert code == 0, out
    report = json.loads(out)
    m = report["metrics"]
    assert set(m) == {"MMD-CD", "MMD-EMD", "COV-CD", "COV-EMD", "1-NNA-CD", "1-NNA-EMD", "JSD"}
    assert m["MMD-CD"] == pytest.approx(0.0, abs=1e-6)
    assert m["MMD-EMD"] == pytest.approx(0.0, abs=1e-12)
    assert m["COV-CD"] == m["COV-EMD"] == 100.0
    assert m["1-NNA-CD"] == m["1-NNA-EMD"] == 0.0
    assert m["JSD"] == 0.0
    assert report["normalization"]["mode"] == "shape_bbox"
    assert report["points"] == {"gen": 48, "ref": 48}
    assert report["subsample"] is None
    assert report["mode"] == "generation"
    assert report["units"]["JSD"].startswith("bits")


def test_table_states_normalisation_and_points_and_out_file(tmp_path: Path) -> None:
    gen = _npz(tmp_path / "gen.npz", _ellipsoids(1, 5, 40))
    ref = _npz(tmp_path / "ref.npz", _ellipsoids(2, 7, 64))
    out = tmp_path / "report.json"
    code, text, _ = _run(
        str(gen), str(ref), "--points", "32", "--seed", "3", "--normalize", "shape_unit", "-o", str(out), "-q"
    )
    assert code == 0, text
    assert "normalisation: shape_unit" in text
    assert "points per cloud: gen 32, ref 32 (every cloud subsampled to 32 with seed 3)" in text
    for name in ("MMD-CD", "MMD-EMD", "COV-CD", "COV-EMD", "1-NNA-CD", "1-NNA-EMD", "JSD"):
        assert name in text
    saved = json.loads(out.read_text())
    assert saved["subsample"]["points"] == 32
    assert saved["normalization"]["mode"] == "shape_unit"
    # the subsampling is seeded: the same seed gives the same numbers, another seed other numbers
    again = json.loads(
        _run(
            str(gen), str(ref), "--points", "32", "--seed", "3", "--normalize", "shape_unit", "--json", "-q"
        )[1]
    )
    other = json.loads(
        _run(
            str(gen), str(ref), "--points", "32", "--seed", "4", "--normalize", "shape_unit", "--json", "-q"
        )[1]
    )
    assert again["metrics"] == saved["metrics"]
    assert other["metrics"]["MMD-CD"] != saved["metrics"]["MMD-CD"]


def test_no_emd_and_unequal_point_counts(tmp_path: Path) -> None:
    gen = _npz(tmp_path / "gen.npz", _ellipsoids(3, 4, 40))
    ref = _npz(tmp_path / "ref.npz", _ellipsoids(4, 4, 64))
    code, _, err = _run(str(gen), str(ref), "-q")
    assert code == 2
    assert "pass --points K or --no-emd" in err
    code, out, _ = _run(str(gen), str(ref), "--no-emd", "--json", "-q")
    assert code == 0
    m = json.loads(out)["metrics"]
    assert m["MMD-EMD"] is None
    assert m["MMD-CD"] > 0


def test_autoencoding_mode_closed_form(tmp_path: Path) -> None:
    grid = np.stack(np.meshgrid(*[np.arange(4.0)] * 3, indexing="ij"), -1).reshape(1, -1, 3)
    ref = _npz(tmp_path / "ref.npz", np.concatenate([grid, grid + 5.0]))
    rec = _npz(tmp_path / "rec.npz", np.concatenate([grid, grid + 5.0]) + np.array([0.0, 0.3, 0.4]))
    code, out, _ = _run(str(rec), str(ref), "--ae", "--json", "-q")
    assert code == 0, out
    report = json.loads(out)
    assert report["mode"] == "autoencoding"
    assert report["normalization"]["mode"] == "none"
    assert report["metrics"]["AE-EMD"] == pytest.approx(0.5, rel=1e-12)
    assert report["metrics"]["AE-CD"] == pytest.approx(2 * 0.25, rel=1e-12)


def test_folder_of_cloud_files(tmp_path: Path) -> None:
    x = _ellipsoids(5, 3, 30).astype(np.float64)
    folder = tmp_path / "clouds"
    folder.mkdir()
    for i, cloud in enumerate(x):
        np.savetxt(folder / f"c{i}.xyz", cloud)
    ref = _npz(tmp_path / "ref.npz", x)
    code, out, err = _run(str(folder), str(ref), "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["clouds"]["gen"] == 3
    assert report["metrics"]["COV-EMD"] == 100.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.npz", "no such file"),
        (
            lambda d: _npz(
                d / "nan.npz", np.where(np.arange(3)[:, None, None] == 1, np.nan, np.ones((3, 8, 3)))
            ),
            "cloud 1 has NaN",
        ),
        (lambda d: _npz(d / "flat.npz", np.ones((3, 8, 2))), "3 coordinates"),
        (lambda d: _npz(d / "empty.npz", np.zeros((0, 8, 3))), "no clouds"),
        (
            lambda d: (np.savez(d / "other.npz", xyz=np.ones((3, 8, 3))), d / "other.npz")[1],
            "no array named 'points'",
        ),
        (lambda d: (d / "bad.txt").write_text("1 2 3") and d / "bad.txt", "expected an .npz or .npy"),
        (lambda d: _npz(d / "same.npz", np.ones((3, 8, 3))), "points all coincide"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    bad = make(tmp_path)
    ref = _npz(tmp_path / "ref.npz", _ellipsoids(6, 3, 8))
    code, out, err = _run(str(bad), str(ref), "-q")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {bad}"), err
    assert message in lines[0], err


def test_bad_options_exit_2(tmp_path: Path) -> None:
    ref = _npz(tmp_path / "ref.npz", _ellipsoids(7, 3, 8))
    code, _, err = _run(str(ref), str(ref), "--normalize", "unit_cube", "-q")
    assert code == 2
    assert "--normalize must be one of shape_bbox, shape_unit, none" in err
    code, _, err = _run(str(ref), str(ref), "--points", "9", "-q")
    assert code == 2
    assert "fewer than --points 9" in err
    code, _, err = _run(str(ref), str(_npz(tmp_path / "two.npz", _ellipsoids(8, 2, 8))), "--ae", "-q")
    assert code == 2
    assert "one to one" in err
