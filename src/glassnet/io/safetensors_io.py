"""``.safetensors`` weights: the format with nothing in it but a header and numbers.

A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of
JSON describing each tensor (``dtype``, ``shape``, ``data_offsets``), then the raw
little-endian bytes. There is no code, no links and no compression, which makes it
the format to prefer for weights from strangers.

glassnet names each tensor ``<layer path>.<weight>``: the layer's path as Keras 3
weights files name it, by class and position (``dense``, ``dense_1``, whatever the
layers are called), then glassnet's key (``dense.W`` is the kernel, shaped
(n_in, units) as in Keras; ``dense.b`` the bias; ``batch_normalization.moving_mean``
is state). So the weights of a model load into any model of the same architecture,
even one built later in the same session, whose layers got other automatic names.
Loading also accepts files that name tensors by the layers' own names
(``<layer name>.<key>``); any other mismatch is refused, listing what is missing
and what is extra. ``__metadata__`` records
``format="glassnet"``, the glassnet version, the model name and the dtype.

Files are written with the ``safetensors`` library (imported on first use) and read
by the parser below, which checks, before reading any tensor: the header length
against the file size and :data:`~glassnet.io.limits.MAX_JSON_BYTES`, strict JSON,
that the offsets tile the data area exactly (no gaps, overlaps or bytes outside),
that every ``dtype`` is float16/32/64 and every byte count equals its shape.

>>> import os, tempfile
>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense
>>> model = Sequential([Dense(2, input_dim=3)], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> with open(path, "wb") as f:
...     _ = f.write(to_bytes(model))
>>> sorted(read_header(path, "model.safetensors")[0])
['dense.W', 'dense.b']
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import __version__
from glassnet._typing import Array
from glassnet.errors import ModelFileError
from glassnet.io import limits, safe_json
from glassnet.io.keras_compat import keras_layer_paths
from glassnet.io.sequence_limits import shape_hint
from glassnet.io.slots import weight_slots

if TYPE_CHECKING:
    from glassnet.models import Model

__all__ = ["read_header", "read_weights", "to_bytes"]

_DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}
Entry = tuple[np.dtype, tuple[int, ...], int, int]


def positional_names(model: Model) -> list[str]:
    """``<Keras layer path>.<key>`` for every weight, in ``get_weights`` order."""
    paths = {id(layer): path for path, layer in keras_layer_paths(model)}
    return [f"{paths[id(s.layer)]}.{s.key}" for s in weight_slots(model)]


def to_bytes(model: Model) -> bytes:
    """The model's weights as a safetensors file."""
    from safetensors.numpy import save

    names = positional_names(model)
    tensors = {
        names[i]: np.ascontiguousarray(slot.value)
        for i, slot in enumerate(weight_slots(model, "save_weights"))
    }
    metadata = {
        "format": "glassnet",
        "glassnet_version": __version__,
        "model": model.name,
        "dtype": model.dtype.name,
    }
    return bytes(save(tensors, metadata=metadata))


def read_header(path: str, where: str) -> tuple[dict[str, Entry], dict[str, str], int]:
    """``(tensors, metadata, data_start)`` from a file's header, fully checked."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ModelFileError(
                f"{where}: {size} bytes is too short for a safetensors file."
            )
        length = int.from_bytes(prefix, "little")
        if length > min(limits.MAX_JSON_BYTES, size - 8):
            raise ModelFileError(
                f"{where}: the header declares {length} bytes but the file has "
                f"{size - 8} after the length (limit {limits.MAX_JSON_BYTES})."
            )
        text = handle.read(length)
    if not text.startswith(b"{"):
        raise ModelFileError(f"{where}: the header is not a JSON object.")
    header = safe_json.loads(text, f"{where}: header")
    if not isinstance(header, dict):
        raise ModelFileError(f"{where}: the header is not a JSON object.")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ModelFileError(f"{where}: __metadata__ must map strings to strings.")
    if len(header) > 4 * limits.MAX_LAYERS:
        raise ModelFileError(f"{where}: the header lists {len(header)} tensors.")
    data_size = size - 8 - length
    entries = {
        name: _entry(name, value, data_size, where) for name, value in header.items()
    }
    _check_tiling(entries, data_size, where)
    return entries, metadata, 8 + length


def _entry(name: str, value: Any, data_size: int, where: str) -> Entry:
    here = f"{where}: tensor '{name[:100]}'"
    if len(name) > limits.MAX_NAME_LENGTH or not isinstance(value, dict):
        raise ModelFileError(f"{here}: invalid entry.")
    if set(value) != _ENTRY_KEYS:
        raise ModelFileError(
            f"{here}: an entry has exactly the keys {sorted(_ENTRY_KEYS)}."
        )
    dtype = _DTYPES.get(value["dtype"]) if isinstance(value["dtype"], str) else None
    if dtype is None:
        raise ModelFileError(
            f"{here}: dtype {str(value['dtype'])[:20]!r}; glassnet reads F16, F32 and "
            "F64 weights only."
        )
    shape, offsets = value["shape"], value["data_offsets"]
    if not (
        isinstance(shape, list)
        and len(shape) <= 8
        and all(_count(d) for d in shape)
        and isinstance(offsets, list)
        and len(offsets) == 2
        and all(_count(o) for o in offsets)
        and offsets[0] <= offsets[1] <= data_size
    ):
        raise ModelFileError(
            f"{here}: invalid shape {str(shape)[:60]} or data_offsets "
            f"{str(offsets)[:60]} (the data area has {data_size} bytes)."
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != offsets[1] - offsets[0]:
        raise ModelFileError(
            f"{here}: shape {shape} in {value['dtype']} needs {nbytes} bytes; the "
            f"offsets give {offsets[1] - offsets[0]}."
        )
    return dtype, tuple(shape), offsets[0], offsets[1]


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _check_tiling(entries: dict[str, Entry], data_size: int, where: str) -> None:
    position = 0
    for _, _, begin, end in sorted(entries.values(), key=lambda e: (e[2], e[3])):
        if begin != position:
            raise ModelFileError(
                f"{where}: the tensors' data overlap or leave a gap at byte {position}."
            )
        position = end
    if position != data_size:
        raise ModelFileError(
            f"{where}: the tensors cover {position} bytes of a {data_size}-byte data "
            "area."
        )


def read_weights(
    path: str, model: Model, where: str, allow_nonfinite: bool = False
) -> list[Array]:
    """Every weight of ``model`` from a safetensors file, matched by name, checked."""
    slots = weight_slots(model)
    entries, _, start = read_header(path, where)
    names = positional_names(model)
    by_layer_name = [s.name for s in slots]
    if set(entries) != set(names) and set(entries) == set(by_layer_name):
        names = by_layer_name
    missing = [name for name in names if name not in entries]
    extra = sorted(set(entries) - set(names))
    if missing or extra:
        raise ModelFileError(
            f"{where}: the tensor names do not match the model's weights. Missing: "
            f"{missing[:20] or 'none'}; unexpected: {extra[:20] or 'none'}. glassnet "
            "names tensors '<layer path>.<key>' by layer class and position, e.g. "
            "'dense.W', 'dense.b', 'dense_1.W'."
        )
    arrays = []
    with open(path, "rb") as handle:
        for slot, name in zip(slots, names, strict=True):
            dtype, shape, begin, end = entries[name]
            here = f"{where}: tensor '{name}'"
            if shape != slot.shape:
                raise ModelFileError(
                    f"{here}: the file's weight has shape {shape}; the model's has "
                    f"{slot.shape}." + shape_hint(slot.layer, slot.key, shape)
                )
            handle.seek(start + begin)
            data = handle.read(end - begin)
            if len(data) != end - begin:
                raise ModelFileError(f"{here}: the file is truncated.")
            values = np.frombuffer(data, dtype=dtype).reshape(shape).astype(model.dtype)
            if not allow_nonfinite and not np.isfinite(values).all():
                raise ModelFileError(
                    f"{here}: the weight holds NaN or inf values. Pass "
                    "allow_nonfinite=True to load it anyway."
                )
            arrays.append(values)
    return arrays
