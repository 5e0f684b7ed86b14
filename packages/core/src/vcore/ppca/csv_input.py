"""Strict loading of a numeric CSV matrix; every problem is a one-line `UserError` naming file, row, column.

Rules: comma-separated, UTF-8 (a BOM is allowed). Empty lines are skipped. The first row is a header
when none of its cells is a number; a first row that mixes numbers and text is an error. Every other
cell must be a finite number: an empty cell, text, NaN or ±inf is an error naming the row (the line
of the file, counting from 1, header included) and the column (from 1, with its header name if any).
Every row must have as many cells as the first.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vcore.errors import UserError


@dataclass(frozen=True)
class CsvMatrix:
    """The numbers of a CSV file, row-major, and its header (None when the file has none)."""

    values: np.ndarray  # (n, d) float64
    header: tuple[str, ...] | None
    path: Path


def _as_number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _column(j: int, header: tuple[str, ...] | None) -> str:
    if header is not None and header[j].strip():
        return f"column {j + 1} ({header[j].strip()!r})"
    return f"column {j + 1}"


def _cell_error(
    path: Path, row: int, j: int, cell: str, header: tuple[str, ...] | None, row_is_first: bool
) -> UserError:
    where = f"{path}: row {row}, {_column(j, header)}"
    text = cell.strip()
    if not text:
        return UserError(f"{where} is empty")
    value = _as_number(text)
    if value is not None and math.isnan(value):
        return UserError(f"{where} is NaN")
    if value is not None:
        return UserError(f"{where} is not finite ({text!r})")
    hint = ""
    if ";" in text or "\t" in text:
        hint = " (cells must be separated by commas)"
    elif header is None and row_is_first:
        hint = " (a header row must have no numeric cells)"
    return UserError(f"{where}: {text!r} is not a number{hint}")


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a CSV file")
    rows: list[tuple[int, list[str]]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for cells in reader:
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                rows.append((reader.line_num, cells))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    except csv.Error as err:
        raise UserError(f"{path}: malformed CSV ({err})") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror or err})") from None
    return rows


def load_numeric_csv(path: str | Path) -> CsvMatrix:
    """Read a CSV of finite numbers (optionally under a header row); raise `UserError` on anything else."""
    path = Path(path)
    rows = _read_rows(path)
    if not rows:
        raise UserError(f"{path}: the file has no rows")
    first_line, first = rows[0]
    width = len(first)
    header: tuple[str, ...] | None = None
    if all(_as_number(cell) is None for cell in first):
        header = tuple(first)
        rows = rows[1:]
    if not rows:
        raise UserError(f"{path}: no data rows below the header")
    values = np.empty((len(rows), width), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise UserError(f"{path}: row {line} has {len(cells)} cells, but row {first_line} has {width}")
        for j, cell in enumerate(cells):
            value = _as_number(cell)
            if value is None or not math.isfinite(value):
                raise _cell_error(path, line, j, cell, header, line == first_line)
            values[i, j] = value
    return CsvMatrix(values=values, header=header, path=path)
