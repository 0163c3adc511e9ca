"""Reading HDF5 files as plain data: no links, no external storage, checked sizes.

HDF5 is a file system inside a file, with features a weights file never needs and
an attacker would love: *soft* and *external links* (an external link makes the
library open another file, anywhere on the disk), *external storage* (a dataset
whose bytes live in a different file), *virtual datasets* (stitched from other
files), and filter plugins loaded by id. glassnet's readers:

- walk the whole file once (:func:`scan`) and refuse any link that is not a plain
  hard link, a group reached twice (a cycle of hard links), any dataset with
  external storage, and any virtual dataset;
- read only the groups and datasets they expect, by name;
- check each dataset's dtype (floats only), shape (against the model), the bytes
  actually stored (against the shape), its chunks (no larger than the weight) and
  what each deflated chunk inflates to *before* reading it (:func:`read_weight`).

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
import zlib
from types import ModuleType
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import ModelFileError, UnsafeFileError
from glassnet.io import limits

__all__ = [
    "get_dataset",
    "get_group",
    "load_h5py",
    "read_int",
    "read_string",
    "read_string_list",
    "read_weight",
    "scan",
    "write_string_list",
]

# Filters whose decoding is built into HDF5: deflate (gzip), shuffle, fletcher32.
_DEFLATE, _FLETCHER32 = 1, 3
_ALLOWED_FILTERS = {_DEFLATE: "deflate", 2: "shuffle", _FLETCHER32: "fletcher32"}
# Chunks up to this size are accepted for any weight (h5py's own chunk guesses for
# a small dataset are never larger).
_CHUNK_FLOOR = 2**20
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
    """Refuse files holding soft/external links, external storage or virtual datasets.

    A group reached a second time is refused too: hard links can make a group its
    own descendant (or the root's), and a walk that followed such a cycle would go
    round it until the object limit, however small the file. Keras never links a
    group twice. Paths are spelled out only for an error message, so a deep file
    costs no ever-longer strings.
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
            item = group[name]
            if isinstance(item, h5py.Group):
                identity = _identity(item)
                if identity in visited:
                    raise UnsafeFileError(
                        f"{where}: {_path(group, name)} is a hard link to a group "
                        "already reached by another path (a cycle of links, or a "
                        "shared group); glassnet reads trees of groups only."
                    )
                visited.add(identity)
                stack.append(item)
            elif isinstance(item, h5py.Dataset):
                _check_storage(item, f"{where}: {_path(group, name)}")


def _identity(group: Any) -> tuple[int, int]:
    """Which object ``group`` is, however it was reached: (file number, address).

    A key rather than the ObjectID itself, so that walking a file does not keep a
    handle open on every group it has seen.
    """
    info = load_h5py().h5o.get_info(group.id)
    return int(info.fileno), int(info.addr)


def _path(group: Any, name: str) -> str:
    return f"{(group.name or '').rstrip('/')}/{name}"


def _check_storage(dataset: Any, where: str) -> None:
    if dataset.is_virtual:
        raise UnsafeFileError(
            f"{where} is a virtual dataset (its data lives in other files); refused."
        )
    if dataset.id.get_create_plist().get_external_count() > 0:
        raise UnsafeFileError(
            f"{where} keeps its data in an external file; glassnet reads "
            "self-contained files only."
        )


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
    item = parent[name]
    expected = h5py.Group if kind == "group" else h5py.Dataset
    if not isinstance(item, expected):
        raise ModelFileError(f"{where}: '{name}' should be a {kind}.")
    if kind == "dataset":
        _check_storage(item, f"{where}: '{name}'")
    return item


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
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    unknown = [code for code in filters if code not in _ALLOWED_FILTERS]
    if unknown:
        raise UnsafeFileError(
            f"{where}: the weight uses HDF5 filter(s) {unknown}; glassnet decodes "
            f"only {sorted(_ALLOWED_FILTERS.values())} (no filter plugins)."
        )
    nbytes = math.prod(shape) * stored.itemsize
    storage = dataset.id.get_storage_size()
    chunked = plist.get_layout() == h5py.h5d.CHUNKED
    complete = storage >= nbytes if chunked and not filters else storage == nbytes
    if filters:
        complete = storage > 0 or nbytes == 0
    if chunked and nbytes and hasattr(dataset.id, "get_num_chunks"):
        expected = math.prod(
            -(-n // c) for n, c in zip(shape, dataset.chunks, strict=True)
        )
        complete = complete and dataset.id.get_num_chunks() == expected
    if not complete:
        raise ModelFileError(
            f"{where}: the weight declares {nbytes} bytes but the file stores {storage}; "
            "it is truncated or was never written."
        )
    if chunked:
        _check_chunks(dataset, filters, nbytes, where)
    values = np.asarray(dataset[()], dtype=dtype)
    if not allow_nonfinite and not np.isfinite(values).all():
        count = int(values.size - np.isfinite(values).sum())
        raise ModelFileError(
            f"{where}: the weight holds {count} NaN or inf value(s). Pass "
            "allow_nonfinite=True to load it anyway."
        )
    return values


def _check_chunks(dataset: Any, filters: list[int], nbytes: int, where: str) -> None:
    """Refuse chunks that would make HDF5 allocate or inflate more than the weight.

    HDF5 reads a chunked dataset one whole chunk at a time, so a (3, 5) weight
    stored in one 8192 x 8192 chunk costs 256 MiB to read. And its deflate filter
    grows its buffer until the stream ends, whatever the chunk's size: a chunk of
    the right shape can still hold a stream of 256 MiB of zeros in 260 KB. So
    every deflated chunk is inflated here first, by zlib, never beyond its size.
    """
    shape, chunks = dataset.shape, dataset.chunks
    itemsize = dataset.dtype.itemsize
    chunk_bytes = math.prod(chunks) * itemsize
    if any(c > max(n, 1) for c, n in zip(chunks, shape, strict=True)) or (
        chunk_bytes > max(nbytes, _CHUNK_FLOOR)
    ):
        raise UnsafeFileError(
            f"{where}: the weight of shape {shape} is stored in chunks of "
            f"{chunks}, larger than the weight itself; refused (reading it would "
            f"take {chunk_bytes} bytes)."
        )
    if _DEFLATE not in filters:
        return
    position = filters.index(_DEFLATE)
    # Read in reverse, the pipeline must reach deflate's stream directly: only
    # fletcher32 (which appends a 4-byte checksum) may follow it, as h5py writes
    # [shuffle,] deflate[, fletcher32]. A second deflate would inflate the first's
    # output beyond what is checked here.
    if filters.count(_DEFLATE) > 1 or set(filters[position + 1 :]) - {_FLETCHER32}:
        raise UnsafeFileError(
            f"{where}: the weight's filters {filters} are in an order glassnet does "
            "not read ([shuffle,] deflate[, fletcher32])."
        )
    limit = chunk_bytes + 4 * filters[:position].count(_FLETCHER32)
    for index in range(dataset.id.get_num_chunks()):
        info = dataset.id.get_chunk_info(index)
        if info.filter_mask & (1 << position):
            continue  # stored without deflate: HDF5 reads its stored bytes as they are
        _, raw = dataset.id.read_direct_chunk(info.chunk_offset)
        inflater = zlib.decompressobj()
        try:
            inflated = len(inflater.decompress(raw, limit + 1))
        except zlib.error as error:
            raise ModelFileError(
                f"{where}: the chunk at {info.chunk_offset} is not valid deflate data "
                f"({error})."
            ) from None
        if inflated > limit:
            raise UnsafeFileError(
                f"{where}: the chunk at {info.chunk_offset} inflates beyond the "
                f"{chunk_bytes} bytes of a chunk: a decompression bomb?"
            )
        if not inflater.eof:
            raise ModelFileError(
                f"{where}: the chunk at {info.chunk_offset} holds a deflate stream "
                "that is cut short."
            )


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
