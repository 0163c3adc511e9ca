"""Reading HDF5 files as plain data: no links, no external storage, checked sizes.

HDF5 is a file system inside a file, with features a weights file never needs and
an attacker would love: *soft* and *external links* (an external link makes the
library open another file, anywhere on the disk), *external storage* (a dataset
whose bytes live in a different file), *virtual datasets* (stitched from other
files), and filter plugins loaded by id. glassnet's readers:

- walk the whole file once (:func:`scan`), at most
  :data:`~glassnet.io.limits.MAX_HDF5_OBJECTS` links, and refuse any link that is
  not a plain hard link, any object reached twice (a cycle of hard links, or a
  dataset linked from several places), any dataset that is not numbers, with
  external storage, or virtual (its type checked first, :func:`open_dataset`);
- read only the groups and datasets they expect, by name;
- check each dataset's dtype (floats only), shape (against the model), the bytes
  actually stored (against the shape), its filters, the number and size of its
  chunks and what each deflated chunk inflates to *before* reading it
  (:func:`read_weight`, with :mod:`glassnet.io.hdf5_chunks`).

h5py is imported on first use, so ``import glassnet`` does not pay for it.

>>> import io, numpy as np
>>> h5py = load_h5py()
>>> buffer = io.BytesIO()
>>> with h5py.File(buffer, "w") as f:
...     f["w"] = np.ones((2, 3), dtype="float32")
...     f["elsewhere"] = h5py.ExternalLink("/etc/passwd", "/")
>>> with h5py.File(buffer, "r") as f:
...     scan(f, "weights.h5")
Traceback (most recent call last):
...
glassnet.errors.UnsafeFileError: weights.h5: /elsewhere is an external link; ...
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ModelFileError, UnsafeFileError
from glassnet.io import limits
from glassnet.io.hdf5_chunks import check_chunks, checked_filters, chunk_count

__all__ = [
    "get_dataset",
    "get_group",
    "load_h5py",
    "open_dataset",
    "read_int",
    "read_string",
    "read_string_list",
    "read_weight",
    "scan",
    "write_string_list",
]

# Keras splits long name lists over several attributes below this size.
_HEADER_LIMIT = 64512


def load_h5py() -> ModuleType:
    """Import h5py on first use."""
    import h5py

    return h5py


def _a_link(link: Any) -> str:
    name = type(link).__name__
    return {"SoftLink": "a soft link", "ExternalLink": "an external link"}.get(
        name, f"a link of type {name}"
    )


def scan(root: Any, where: str) -> None:
    """Refuse links, objects reached twice, and datasets no weights file holds.

    An object reached a second time is refused: hard links can make a group its
    own descendant (or the root's), and a walk that followed such a cycle would go
    round it until the object limit, however small the file; Keras never links a
    group or a dataset twice. The walk visits at most
    :data:`~glassnet.io.limits.MAX_HDF5_OBJECTS` links; each object's kind and
    address come from its header (``H5Oget_info``) before it is opened, and each
    dataset is opened once, its type checked before anything else
    (:func:`open_dataset`: numbers only, no external storage, no virtual
    dataset), so a file of 600 links to one dataset of a large compound type
    costs one look at that type. Paths are spelled out only for an error
    message, so a deep file costs no ever-longer strings.
    """
    h5py = load_h5py()
    seen = 0
    visited = {_identity(root)}
    stack = [root]
    while stack:
        group = stack.pop()
        for name in group:
            seen += 1
            if seen > limits.MAX_HDF5_OBJECTS:
                raise UnsafeFileError(
                    f"{where}: more than {limits.MAX_HDF5_OBJECTS} objects; "
                    "glassnet.io.limits.MAX_HDF5_OBJECTS."
                )
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise UnsafeFileError(
                    f"{where}: {_path(group, name)} is {_a_link(link)}; glassnet "
                    "reads self-contained files with plain groups and datasets only."
                )
            info = h5py.h5o.get_info(group.id, _encoded(name))
            identity = int(info.fileno), int(info.addr)
            is_group = info.type == h5py.h5o.TYPE_GROUP
            if identity in visited:
                kind = "group" if is_group else "dataset"
                raise UnsafeFileError(
                    f"{where}: {_path(group, name)} is a hard link to a {kind} "
                    "already reached by another path (a cycle of links, or a shared "
                    f"{kind}); glassnet reads trees of groups only."
                )
            visited.add(identity)
            if is_group:
                stack.append(group[name])
            elif info.type == h5py.h5o.TYPE_DATASET:
                open_dataset(group, name, f"{where}: {_path(group, name)}")


def _encoded(name: str) -> bytes:
    """A link name as HDF5 stores it (h5py hands names over decoded)."""
    return name.encode("utf-8", "surrogateescape")


def _identity(group: Any) -> tuple[int, int]:
    """Which object ``group`` is, however it was reached: (file number, address).

    A key rather than the ObjectID itself, so that walking a file does not keep a
    handle open on every group it has seen.
    """
    info = load_h5py().h5o.get_info(group.id)
    return int(info.fileno), int(info.addr)


def _path(group: Any, name: str) -> str:
    return f"{(group.name or '').rstrip('/')}/{name}"


def open_dataset(parent: Any, name: str, where: str) -> Any:
    """The low-level id of the dataset ``parent[name]``, its type and storage checked.

    Its type is looked at first: a weights file holds numbers only (floats, and
    integer counts), and the creation properties read next convert the dataset's
    fill value to its type, slow for a compound of thousands of fields. Then its
    storage: no external files, no virtual dataset.
    """
    h5py = load_h5py()
    dataset_id = h5py.h5d.open(parent.id, _encoded(name))
    stored = dataset_id.dtype
    if stored.fields or stored.kind not in "fiu" or stored.itemsize > 8:
        raise ModelFileError(
            f"{where} is stored as {str(stored)[:80]}; glassnet reads float16, "
            "float32 or float64 weights and integer counts only."
        )
    plist = dataset_id.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        raise UnsafeFileError(
            f"{where} is a virtual dataset (its data lives in other files); refused."
        )
    if plist.get_external_count() > 0:
        raise UnsafeFileError(
            f"{where} keeps its data in an external file; glassnet reads "
            "self-contained files only."
        )
    return dataset_id


def get_group(parent: Any, name: str, where: str, required: bool = True) -> Any:
    """The hard-linked group ``parent[name]``, or None when absent and not required."""
    return _child(parent, name, where, "group", required)


def get_dataset(parent: Any, name: str, where: str) -> Any:
    """The hard-linked dataset ``parent[name]``."""
    return _child(parent, name, where, "dataset", True)


def _child(parent: Any, name: str, where: str, kind: str, required: bool) -> Any:
    h5py = load_h5py()
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or len(name) > limits.MAX_NAME_LENGTH
    ):
        raise ModelFileError(f"{where}: invalid HDF5 name {name[:80]!r}.")
    link = parent.get(name, getlink=True)
    if link is None:
        if required:
            raise ModelFileError(f"{where}: the file has no {kind} '{name}'.")
        return None
    if not isinstance(link, h5py.HardLink):
        raise UnsafeFileError(f"{where}: '{name}' is {_a_link(link)}; refused.")
    # the object's kind from its header, before opening it
    expected = h5py.Group if kind == "group" else h5py.Dataset
    if parent.get(name, getclass=True) is not expected:
        raise ModelFileError(f"{where}: '{name}' should be a {kind}.")
    if kind == "group":
        return parent[name]
    return h5py.Dataset(open_dataset(parent, name, f"{where}: '{name}'"))


def read_weight(
    dataset: Any,
    shape: tuple[int, ...],
    dtype: np.dtype,
    where: str,
    allow_nonfinite: bool = False,
) -> Array:
    """Read a float dataset of exactly ``shape`` as ``dtype``, after checking its size."""
    h5py = load_h5py()
    if dataset.shape is None or tuple(dataset.shape) != tuple(shape):
        raise ModelFileError(
            f"{where}: the file's weight has shape {dataset.shape}; the model's has "
            f"{tuple(shape)}."
        )
    stored = dataset.dtype
    if stored.kind != "f" or stored.itemsize not in (2, 4, 8) or stored.fields:
        raise ModelFileError(
            f"{where}: the weight is stored as {stored}; glassnet reads float16, "
            "float32 or float64 weights only."
        )
    plist = dataset.id.get_create_plist()
    filters = checked_filters(plist, where)
    nbytes = math.prod(shape) * stored.itemsize
    storage = dataset.id.get_storage_size()
    chunked = plist.get_layout() == h5py.h5d.CHUNKED
    complete = storage >= nbytes if chunked and not filters else storage == nbytes
    if filters:
        complete = storage > 0 or nbytes == 0
    if chunked and nbytes:
        expected = chunk_count(dataset, nbytes, where)
        complete = complete and dataset.id.get_num_chunks() == expected
    if not complete:
        raise ModelFileError(
            f"{where}: the weight declares {nbytes} bytes but the file stores {storage}; "
            "it is truncated or was never written."
        )
    if chunked:
        check_chunks(dataset, filters, nbytes, where)
    values = np.asarray(dataset[()], dtype=dtype)
    if not allow_nonfinite and not np.isfinite(values).all():
        count = int(values.size - np.isfinite(values).sum())
        raise ModelFileError(
            f"{where}: the weight holds {count} NaN or inf value(s). Pass "
            "allow_nonfinite=True to load it anyway."
        )
    return values


def read_int(dataset: Any, where: str) -> int:
    """A non-negative integer scalar (an optimizer's iteration count)."""
    stored = dataset.dtype
    if dataset.shape != () or stored.kind not in "iu" or stored.itemsize > 8:
        raise ModelFileError(
            f"{where}: expected an integer scalar; found {stored} of shape {dataset.shape}."
        )
    value = int(dataset[()])
    if not 0 <= value < 2**53:
        raise ModelFileError(f"{where}: {value} is out of range.")
    return value


def _attribute(item: Any, name: str, where: str) -> Any:
    attribute = item.attrs.get_id(name)
    # Elements times their size: variable-length strings count as pointers here,
    # their text is bounded by the file's size.
    size = math.prod(attribute.shape or ()) * attribute.dtype.itemsize
    if size > limits.MAX_ATTRIBUTE_BYTES:
        raise ModelFileError(
            f"{where}: attribute '{name}' holds {size} bytes; the limit is "
            f"{limits.MAX_ATTRIBUTE_BYTES}."
        )
    return item.attrs[name]


def _text(value: Any, where: str, limit: int) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"{where}: a name is not valid UTF-8.") from None
    if not isinstance(value, str) or len(value) > limit:
        raise ModelFileError(
            f"{where}: expected a string of at most {limit} characters."
        )
    return value


def read_string(item: Any, name: str, where: str) -> str | None:
    """A scalar string attribute (e.g. ``model_config``), or None when absent."""
    if name not in item.attrs:
        return None
    value = _attribute(item, name, f"{where}: attribute '{name}'")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return _text(value, f"{where}: attribute '{name}'", limits.MAX_JSON_BYTES)


def read_string_list(item: Any, name: str, where: str) -> list[str]:
    """A list-of-strings attribute, joined from ``name0``, ``name1``... if Keras split it."""
    if name in item.attrs:
        parts = [_attribute(item, name, where)]
    else:
        parts = []
        while f"{name}{len(parts)}" in item.attrs and len(parts) < limits.MAX_LAYERS:
            parts.append(_attribute(item, f"{name}{len(parts)}", where))
    names: list[str] = []
    for part in parts:
        array = np.asarray(part)
        if array.size == 0:  # Keras writes an empty float array for "no names"
            continue
        if array.ndim != 1 or array.dtype.kind not in "SOU":
            raise ModelFileError(
                f"{where}: attribute '{name}' must be a list of strings."
            )
        names.extend(
            _text(v, f"{where}: {name}", limits.MAX_NAME_LENGTH) for v in array
        )
        if len(names) > limits.MAX_LAYERS:
            raise ModelFileError(f"{where}: attribute '{name}' lists too many names.")
    return names


def write_string_list(item: Any, name: str, values: list[str]) -> None:
    """Store names as Keras does: UTF-8 bytes, split into ``name0, name1...`` if large."""
    if not values:
        item.attrs[name] = np.asarray([])
        return
    data = np.asarray([v.encode("utf-8") for v in values])
    chunks = 1
    parts = np.array_split(data, chunks)
    while any(p.nbytes > _HEADER_LIMIT for p in parts) and chunks < len(data):
        chunks += 1
        parts = np.array_split(data, chunks)
    if chunks == 1:
        item.attrs[name] = data
    else:
        for index, part in enumerate(parts):
            item.attrs[f"{name}{index}"] = part
