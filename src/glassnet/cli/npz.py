"""Reading a NumPy ``.npz`` file as a table: ``np.savez(path, x=x, y=y)``.

The inputs array (``x``, or ``--x-array``) shaped ``(samples, features)`` becomes the
columns ``x0, x1, ...``; every other array with one value per sample (``y``) becomes
a column of its own name, numbers or text. Files are read with
``allow_pickle=False``: object arrays are refused, never unpickled.
"""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import CliError
from glassnet.cli.tables import Table, strip_cells

if TYPE_CHECKING:
    from glassnet.cli.dialect import Source
    from glassnet.cli.tables import ReadOptions

__all__ = ["read_npz"]


def read_npz(source: Source, options: ReadOptions) -> Table:
    if source.data is not None:
        raise CliError(
            "standard input is read as CSV or JSON; pass .npz data as a file"
        )
    try:
        archive = np.load(source.path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise CliError(
            f"{source.name}: not a readable NumPy .npz file ({error})"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CliError(
            f"{source.name}: holds a single array; save inputs and targets together "
            "with np.savez(path, x=x, y=y)"
        )
    with archive:
        names = list(archive.files)
        if options.x_array not in names:
            raise CliError(
                f"{source.name}: no input array {options.x_array!r}. Arrays: "
                f"{', '.join(names)}. (--x-array names it)"
            )
        arrays = {name: _npz_array(archive, source.name, name) for name in names}
    x = arrays.pop(options.x_array)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2 or x.dtype.kind not in "biuf" or len(x) == 0:
        raise CliError(
            f"{source.name}: array {options.x_array!r} must hold numbers shaped "
            f"(samples, features); it has dtype {x.dtype} and shape {x.shape}"
        )
    columns: dict[str, Array] = {
        f"x{i}": x[:, i].astype(np.float64) for i in range(x.shape[1])
    }
    for name, y in arrays.items():
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(x):
            continue  # not a column of this table
        if y.dtype.kind in "biuf":
            columns[name] = y.astype(np.float64)
        elif y.dtype.kind in "SU":
            text = np.char.decode(y, "utf-8") if y.dtype.kind == "S" else y
            columns[name] = strip_cells(text.astype(object))
    return Table(source.name, columns, len(x))


def _npz_array(archive: Any, name: str, member: str) -> Array:
    try:
        return np.asarray(archive[member])
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise CliError(f"{name}: array {member!r} cannot be read ({error})") from None
