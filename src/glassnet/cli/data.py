"""Reading data for the command line: a CSV file with a header row, or a NumPy ``.npz``.

CSV: the first row names the columns and every other row must have as many values
(blank lines are skipped). Inputs must be numbers; the target column may hold text
labels. A problem names the file line and the column, as an editor shows them:
``data.csv, line 7, column 'height': 'tall' is not a number``.

``.npz``: an array of inputs shaped ``(n, features)`` named ``x`` and one of targets
shaped ``(n,)`` or ``(n, 1)`` named ``y`` (or the names given by ``--x-array`` and
``--target``), as ``np.savez(path, x=x, y=y)`` writes them. Files are read with
``allow_pickle=False``, so object arrays are refused, never unpickled.
"""

from __future__ import annotations

import csv
import difflib
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError

__all__ = ["Data", "load_data"]


@dataclass
class Data:
    """Inputs (float64), their names, and the raw target column if there is one."""

    path: str
    x: Array
    features: list[str]
    target: str | None
    #: float64 for numbers, a str array for text labels, None without a target
    y: Array | None
    #: the CSV line of each row (None for .npz)
    lines: list[int] | None = None

    def where(self, row: int) -> str:
        """``data.csv, line 7`` (CSV) or ``data.npz, row 5``."""
        if self.lines is not None:
            return f"{self.path}, line {self.lines[row]}"
        return f"{self.path}, row {row}"


def load_data(
    path: str,
    *,
    target: str | None,
    target_required: bool,
    features: Sequence[str] | None = None,
    x_array: str = "x",
) -> Data:
    """Read ``path`` (``.npz`` by its extension, CSV otherwise).

    ``target`` names the target column (array); when ``target_required`` it must
    exist, otherwise a missing one gives ``y=None``. ``features`` picks the input
    columns of a CSV file (default: every column but the target); for ``.npz`` they
    only name the input array's columns (``x0, x1, ...`` by default).
    """
    if not os.path.exists(path):
        raise CliError(f"{path}: no such file")
    if path.lower().endswith(".npz"):
        return _load_npz(path, target, target_required, x_array, features)
    return _load_csv(path, target, target_required, features)


# -- CSV -------------------------------------------------------------------------
def _load_csv(
    path: str,
    target: str | None,
    target_required: bool,
    features: Sequence[str] | None,
) -> Data:
    header, rows, lines = _read_csv(path)
    position = {name: index for index, name in enumerate(header)}
    if target is None and target_required:
        raise CliError(
            f"{path}: which column should be predicted? Pass --target COLUMN. "
            f"Columns: {_listing(header)}."
        )
    if target is not None and target not in position:
        if target_required:
            raise CliError(_unknown_column(path, target, header, "target column"))
        target = None
    if features is None:
        features = [name for name in header if name != target]
    else:
        for name in features:
            if name not in position:
                raise CliError(_unknown_column(path, name, header, "input column"))
        if len(set(features)) != len(features):
            raise CliError(f"--features names a column twice: {', '.join(features)}")
        if target in features:
            raise CliError(f"column {target!r} cannot be both the target and an input")
    if not features:
        raise CliError(
            f"{path}: there is no input column besides the target {target!r}"
        )
    data = Data(path, np.empty((len(rows), 0)), list(features), target, None, lines)
    columns = list(zip(*rows, strict=True))
    data.x = np.column_stack(
        [_numbers(data, name, columns[position[name]]) for name in features]
    )
    if target is not None:
        data.y = _target(data, target, columns[position[target]])
    return data


def _read_csv(path: str) -> tuple[list[str], list[list[str]], list[int]]:
    rows: list[list[str]] = []
    lines: list[int] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise CliError(f"{path}: the file is empty; expected a header row")
            header = [name.strip() for name in header]
            _check_header(path, header)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise CliError(
                        f"{path}, line {reader.line_num}: {len(row)} value"
                        f"{'s' if len(row) != 1 else ''}, but the header has "
                        f"{len(header)} columns"
                    )
                rows.append(row)
                lines.append(reader.line_num)
        except UnicodeDecodeError as error:
            raise CliError(
                f"{path}: not a UTF-8 text file ({error.reason} at byte {error.start}); "
                "glassnet reads CSV files (UTF-8) and .npz files"
            ) from None
        except csv.Error as error:
            raise CliError(
                f"{path}, line {reader.line_num}: unreadable CSV ({error})"
            ) from None
    if not rows:
        raise CliError(f"{path}: the header is not followed by any data rows")
    return header, rows, lines


def _check_header(path: str, header: list[str]) -> None:
    seen: set[str] = set()
    for index, name in enumerate(header):
        if not name:
            raise CliError(
                f"{path}, line 1: column {index + 1} has no name in the header"
            )
        if name in seen:
            raise CliError(f"{path}, line 1: the column name {name!r} appears twice")
        seen.add(name)


def _numbers(data: Data, name: str, cells: Sequence[str]) -> Array:
    """A column of numbers, or an error naming the first bad cell's line and column."""
    try:
        values = np.array(cells, dtype=np.float64)
        if np.isfinite(values).all():
            return values
    except ValueError:
        pass
    values = np.empty(len(cells))
    for row, cell in enumerate(cells):
        problem = _not_a_number(cell)
        if problem:
            hint = (
                " (choose the input columns with --features)"
                if "not a number" in problem
                else ""
            )
            raise CliError(f"{data.where(row)}, column {name!r}: {problem}{hint}")
        values[row] = float(cell)
    return values


def _not_a_number(cell: str) -> str:
    if not cell.strip():
        return "the value is empty (fill in missing values first)"
    try:
        value = float(cell)
    except ValueError:
        return f"{cell.strip()[:40]!r} is not a number"
    if not np.isfinite(value):
        return f"{cell.strip()!r} is not a finite number (fill in missing values first)"
    return ""


def _target(data: Data, name: str, cells: Sequence[str]) -> Array:
    """Numbers when every cell is a finite number, else text labels."""
    labels = [cell.strip() for cell in cells]
    for row, label in enumerate(labels):
        if not label:
            raise CliError(f"{data.where(row)}, column {name!r}: the target is empty")
    try:
        values = np.array(labels, dtype=np.float64)
        if np.isfinite(values).all():
            return values
    except ValueError:
        pass
    return np.array(labels, dtype=str)


def _unknown_column(path: str, name: str, header: list[str], what: str) -> str:
    lowered = {column.lower(): column for column in header}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    hint = f" Did you mean {lowered[close[0]]!r}?" if close else ""
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        hint += (
            " (the header has a single column: glassnet reads comma-separated files)"
        )
    return f"{path}: no {what} {name!r}. Columns: {_listing(header)}.{hint}"


def _listing(names: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


# -- .npz ------------------------------------------------------------------------
def _load_npz(
    path: str,
    target: str | None,
    target_required: bool,
    x_array: str,
    features: Sequence[str] | None,
) -> Data:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise CliError(f"{path}: not a readable NumPy .npz file ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CliError(
            f"{path}: holds a single array; save inputs and targets together with "
            "np.savez(path, x=x, y=y)"
        )
    with archive:
        names = list(archive.files)
        if x_array not in names:
            raise CliError(_unknown_column(path, x_array, names, "input array"))
        x = _array(archive, path, x_array)
        name = target if target is not None else "y"
        y = None
        if name in names:
            y = _array(archive, path, name)
        elif target_required:
            raise CliError(_unknown_column(path, name, names, "target array"))
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.dtype.kind not in "biuf" or len(x) == 0:
        raise CliError(
            f"{path}: array {x_array!r} must hold numbers shaped (samples, features); "
            f"it has dtype {x.dtype} and shape {x.shape}"
        )
    data = Data(path, x.astype(np.float64), [], name if y is not None else None, None)
    _check_finite(data, x_array, data.x)
    if features is not None and len(features) == data.x.shape[1]:
        data.features = list(features)
    else:
        data.features = [f"x{i}" for i in range(data.x.shape[1])]
    if y is not None:
        data.y = _npz_target(data, name, y)
    return data


def _array(archive: np.lib.npyio.NpzFile, path: str, name: str) -> Array:
    try:
        return np.asarray(archive[name])
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise CliError(f"{path}: array {name!r} cannot be read ({error})") from None


def _npz_target(data: Data, name: str, y: Array) -> Array:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(data.x):
        raise CliError(
            f"{data.path}: array {name!r} must hold one target per row of the inputs, "
            f"shaped ({len(data.x)},); it has shape {y.shape}"
        )
    if y.dtype.kind == "S":
        return np.char.decode(y, "utf-8").astype(str)
    if y.dtype.kind == "U":
        return y.astype(str)
    if y.dtype.kind not in "biuf":
        raise CliError(
            f"{data.path}: array {name!r} has dtype {y.dtype}; expected numbers or text"
        )
    values = y.astype(np.float64)
    _check_finite(data, name, values.reshape(-1, 1))
    return values


def _check_finite(data: Data, name: str, values: Array) -> None:
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, column = (int(i) for i in bad[0])
        raise CliError(
            f"{data.where(row)}, array {name!r} column {column}: {values[row, column]} is "
            "not a finite number (fill in missing values first)"
        )
