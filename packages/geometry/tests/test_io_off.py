"""The OFF and OBJ parsers: header variants, comments, colours, polygon fans and malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vcore.errors import UserError
from vgeom.data.sampling import surface_area
from vgeom.io.obj import parse_obj, read_obj
from vgeom.io.off import parse_off, read_off

SQUARE_PYRAMID = """OFF
# a square pyramid: one quad, four triangles, with colours on some faces
5 5 8
0 0 0
1 0 0
1 1 0 255 0 0
0 1 0
0.5 0.5 1
4 0 3 2 1 0.5 0.5 0.5
3 0 1 4
3 1 2 4 1 0 0
3 2 3 4
3 3 0 4
"""


def test_polygons_are_fanned_and_area_is_kept() -> None:
    mesh = parse_off(SQUARE_PYRAMID)
    assert mesh.vertices.shape == (5, 3)
    assert mesh.faces.shape == (6, 3)
    np.testing.assert_array_equal(mesh.faces[:2], [[0, 3, 2], [0, 2, 1]])
    side = 0.5 * np.sqrt(0.25 + 1.0)  # each triangular face: base 1, slant height sqrt(1/4 + 1)
    assert surface_area(*mesh) == pytest.approx(1.0 + 4 * side, rel=1e-12)


def test_counts_on_the_header_line_and_colour_header() -> None:
    mesh = parse_off("COFF 3 1 0\n0 0 0 1 1 1 1\n1 0 0 1 1 1 1\n0 1 0 1 1 1 1\n3 0 1 2\n")
    assert mesh.faces.tolist() == [[0, 1, 2]]
    points = parse_off("OFF\n2 0 0\n0 0 0\n1 2 3\n")
    assert points.faces.shape == (0, 3)
    assert points.vertices[1].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty OFF"),
        ("PLY\n", "not an OFF file"),
        ("OFF BINARY\n", "unsupported"),
        ("4OFF\n1 0 0\n0 0 0 0\n", "unsupported"),
        ("OFF\nx y z\n", "bad OFF counts"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n", "truncated"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", "out of range"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n4 0 1 2\n", "fewer than 4"),
        ("OFF\n3 1 0\n0 0 a\n1 0 0\n0 1 0\n3 0 1 2\n", "vertex line"),
    ],
)
def test_malformed_files_name_the_source(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        parse_off(text, "shape.off")
    assert str(info.value).startswith("shape.off: ")


def test_read_off_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.off"
    with pytest.raises(UserError, match="no such file") as info:
        read_off(missing)
    assert str(missing) in str(info.value)
    binary = tmp_path / "binary.off"
    binary.write_bytes(b"\xff\xfe\x00OFF")
    with pytest.raises(UserError, match="unreadable") as info:
        read_off(binary)
    assert str(binary) in str(info.value)


def test_obj_quads_slashes_and_negative_indices() -> None:
    text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvn 0 0 1\nf 1//1 2//1 3//1 4//1\nv 0 0 2\nf -5/1 -4/2/1 -1\n"
    mesh = parse_obj(text, "q.obj")
    assert mesh.faces.tolist() == [[0, 1, 2], [0, 2, 3], [0, 1, 4]]
    assert surface_area(*mesh) == pytest.approx(1.0 + 1.0, rel=1e-12)  # unit quad + triangle (legs 1, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("v 0 0\n", "vertex needs x y z"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2\n", "three or more"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", "malformed face"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "out of range"),
        ("v 0 0 a\n", "malformed vertex"),
    ],
)
def test_malformed_obj(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.obj"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as info:
        read_obj(path)
    assert str(info.value).startswith(f"{path}: ")
