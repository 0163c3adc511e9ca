"""``glassnet inspect WEIGHTS``: every tensor of a weights or model file, with statistics.

Reads ``.safetensors``, ``.weights.h5`` and ``.h5`` (weights or whole model) and the
weights member of a ``.keras`` archive, through glassnet.io's checked readers: the
safetensors header is validated before any tensor is read, HDF5 files are walked
once to refuse links and external storage, and each dataset's stored size is checked
against its shape before it is read. Tensors are listed by their names in the file
(``layers/dense/vars/0`` is a Keras 3 kernel, ``dense.W`` a safetensors one; see
docs/model_files.md) with shape, dtype, mean, standard deviation, minimum, maximum
and the share of zeros.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.cli.app import EXIT_OK, CliError
from glassnet.cli.convert import file_kind

__all__ = ["read_tensors", "run_inspect"]

_FORMATS = {
    "safetensors": "safetensors",
    "weights.h5": "Keras 3 weights (HDF5)",
    "h5": "HDF5 (Keras 2 layout)",
    "keras": "Keras 3 archive (.keras)",
}
_HEADER = ("tensor", "shape", "dtype", "mean", "std", "min", "max", "zeros")


def run_inspect(args: argparse.Namespace) -> int:
    path = args.weights
    kind = _kind(path)
    if not os.path.isfile(path):
        raise CliError(f"{path}: no such file")
    rows = []
    numbers = 0
    for name, value in read_tensors(path, kind):
        numbers += value.size if value.dtype.kind == "f" else 0
        rows.append(_row(name, value))
    print(f"{path}: {_FORMATS[kind]}, {len(rows)} tensors, {numbers:,} numbers")
    widths = [max(len(r[i]) for r in [_HEADER, *rows]) for i in range(len(_HEADER))]
    for row in [_HEADER, *rows]:
        cells = [
            row[0].ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].ljust(widths[2]),
        ]
        cells += [
            cell.rjust(width) for cell, width in zip(row[3:], widths[3:], strict=True)
        ]
        print("  ".join(cells).rstrip())
    return EXIT_OK


def _kind(path: str) -> str:
    kind = file_kind(path)
    if kind in ("weights.h5", "safetensors", "keras", "h5"):
        return kind
    raise CliError(
        f"{path}: inspect reads .weights.h5, .h5, .safetensors and .keras files"
    )


def read_tensors(path: str, kind: str) -> Iterator[tuple[str, Array]]:
    """``(name, values)`` for every tensor, in the file's order."""
    from glassnet.io import hdf5

    if kind == "safetensors":
        yield from _safetensors(path)
        return
    if kind == "keras":
        yield from _archive(path)
        return
    try:
        handle = hdf5.load_h5py().File(path, "r")
    except OSError as error:
        raise CliError(f"{path}: not an HDF5 file ({error})") from None
    with handle:
        hdf5.scan(handle, path)
        yield from _datasets(handle, path)


def _archive(path: str) -> Iterator[tuple[str, Array]]:
    """The weights member of a ``.keras`` archive, read as ``load_model`` reads it.

    config.json is checked and bounds the size model.weights.h5 may declare before
    the member is inflated (:func:`glassnet.io.keras_archive.open_weights`).
    """
    from glassnet.io import hdf5
    from glassnet.io.api import _existing, _reading
    from glassnet.io.keras_archive import WEIGHTS, open_weights

    where = f"{path}: {WEIGHTS}"
    with _reading(_existing(path)) as checked, open_weights(checked, path) as handle:
        hdf5.scan(handle, where)
        # read every tensor while the member is open; the map is freed on exit
        tensors = list(_datasets(handle, where))
    yield from tensors


def _datasets(root: Any, where: str) -> Iterator[tuple[str, Array]]:
    """Every dataset under ``root`` in name order, walked without recursion."""
    from glassnet.io import hdf5

    h5py = hdf5.load_h5py()
    # hdf5.scan has refused every link that is not a hard link and bounded the count.
    stack = [(name, root[name]) for name in reversed(list(root))]
    while stack:
        path, item = stack.pop()
        if isinstance(item, h5py.Group):
            stack.extend(
                (f"{path}/{name}", item[name]) for name in reversed(list(item))
            )
        elif isinstance(item, h5py.Dataset):
            here = f"{where}: {path}"
            if item.dtype.kind == "f" and item.shape is not None:
                shape = tuple(item.shape)
                yield path, hdf5.read_weight(item, shape, item.dtype, here, True)
            elif item.dtype.kind in "iu" and item.shape == ():
                yield path, np.asarray(hdf5.read_int(item, here))
            else:
                yield path, np.empty((0,), dtype=object)


def _safetensors(path: str) -> Iterator[tuple[str, Array]]:
    from glassnet.io.safetensors_io import read_header

    entries, _, start = read_header(path, path)
    with open(path, "rb") as handle:
        for name, (dtype, shape, begin, end) in entries.items():
            handle.seek(start + begin)
            data = handle.read(end - begin)
            if len(data) != end - begin:
                raise CliError(f"{path}: tensor {name!r} is truncated")
            yield name, np.frombuffer(data, dtype=dtype).reshape(shape)


def _row(name: str, value: Array) -> tuple[str, ...]:
    shape = str(tuple(value.shape)) if value.dtype != object else "-"
    dtype = value.dtype.name if value.dtype != object else "(not numbers)"
    if value.dtype.kind not in "fiu" or value.size == 0:
        return (name, shape, dtype, "-", "-", "-", "-", "-")
    data = value.astype(np.float64).ravel()
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return (name, shape, dtype, "nan", "nan", "nan", "nan", "-")
    zeros = np.count_nonzero(data == 0) / data.size
    stats = [_g(finite.mean()), _g(finite.std()), _g(finite.min()), _g(finite.max())]
    note = "" if finite.size == data.size else f" ({data.size - finite.size} nan/inf)"
    return (name, shape, dtype, *stats, f"{zeros:.1%}{note}")


def _g(value: float) -> str:
    return f"{value + 0.0:.4g}"
