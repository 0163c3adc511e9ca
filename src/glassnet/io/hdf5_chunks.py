"""A weight's HDF5 filters and chunks, checked before HDF5 reads a byte of it.

HDF5 reads a chunked dataset one whole chunk at a time, through its filter
pipeline. So a file could make it load a filter plugin by number, allocate a
chunk far larger than the weight, inflate a deflate stream without end, or spend
its time walking tens of thousands of tiny chunks. :func:`checked_filters` allows
the filters built into HDF5 only, :func:`chunk_count` bounds the number of
chunks by the weight's bytes, and :func:`check_chunks` bounds each chunk's size
and inflates each deflated chunk itself, never past the chunk's size, in one walk
over the chunk index.

>>> import io, numpy as np, h5py
>>> buffer = io.BytesIO()
>>> with h5py.File(buffer, "w") as f:
...     f.create_dataset("w", data=np.ones((1, 4096), "f4"), chunks=(1, 1))
...     chunk_count(f["w"], 4 * 4096, "w.h5")
Traceback (most recent call last):
...
glassnet.errors.UnsafeFileError: w.h5: the weight of shape (1, 4096) ... in 4096 chunks ...
"""

from __future__ import annotations

import math
import zlib
from typing import Any

from glassnet.errors import ModelFileError, UnsafeFileError
from glassnet.io import limits

__all__ = ["check_chunks", "checked_filters", "chunk_count"]

# Filters whose decoding is built into HDF5: deflate (gzip), shuffle, fletcher32.
_DEFLATE, _FLETCHER32 = 1, 3
_ALLOWED_FILTERS = {_DEFLATE: "deflate", 2: "shuffle", _FLETCHER32: "fletcher32"}
# Chunks up to this size are accepted for any weight (h5py's own chunk guesses for
# a small dataset are never larger).
_CHUNK_FLOOR = 2**20


def checked_filters(plist: Any, where: str) -> list[int]:
    """The filter codes of a dataset's pipeline, in order, all built into HDF5.

    h5py asserts on a filter carrying more than 256 client values; that (and any
    other malformed filter message) is refused here, naming the weight, as is a
    filter HDF5 would load a plugin for.
    """
    try:
        filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    except (AssertionError, ValueError, RuntimeError, OSError) as error:
        raise ModelFileError(
            f"{where}: the weight's filter pipeline cannot be read "
            f"({type(error).__name__}: {str(error)[:120]})."
        ) from None
    unknown = [code for code in filters if code not in _ALLOWED_FILTERS]
    if unknown:
        raise UnsafeFileError(
            f"{where}: the weight uses HDF5 filter(s) {unknown}; glassnet decodes "
            f"only {sorted(_ALLOWED_FILTERS.values())} (no filter plugins)."
        )
    return filters


def chunk_count(dataset: Any, nbytes: int, where: str) -> int:
    """How many chunks the weight's chunk shape makes, refused past the limits.

    At most :data:`~glassnet.io.limits.MAX_HDF5_CHUNKS`, or one per
    :data:`~glassnet.io.limits.MIN_HDF5_CHUNK_BYTES` of the weight if that is
    more: the work of checking them stays proportional to the weight's bytes.
    Worked out from the shapes alone, before any chunk is looked at.
    """
    shape = dataset.shape
    expected = math.prod(-(-n // c) for n, c in zip(shape, dataset.chunks, strict=True))
    allowed = max(limits.MAX_HDF5_CHUNKS, nbytes // limits.MIN_HDF5_CHUNK_BYTES)
    if expected > allowed:
        raise UnsafeFileError(
            f"{where}: the weight of shape {shape} ({nbytes} bytes) is stored in "
            f"{expected} chunks of {dataset.chunks}; glassnet reads at most "
            f"{allowed} (glassnet.io.limits.MAX_HDF5_CHUNKS, or one per "
            f"{limits.MIN_HDF5_CHUNK_BYTES} bytes: MIN_HDF5_CHUNK_BYTES)."
        )
    return expected


def check_chunks(dataset: Any, filters: list[int], nbytes: int, where: str) -> None:
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
    # one walk over the chunk index (fetching chunk i by its number walks the
    # index from the start each time: quadratic in the number of chunks)
    chunks_found: list[Any] = []
    dataset.id.chunk_iter(chunks_found.append)
    for info in chunks_found:
        if info.filter_mask & (1 << position):
            continue  # stored without deflate: HDF5 reads its stored bytes as they are
        if info.size > chunk_bytes + _CHUNK_FLOOR:
            raise UnsafeFileError(
                f"{where}: the chunk at {info.chunk_offset} holds {info.size} "
                f"compressed bytes for a chunk of {chunk_bytes}; refused."
            )
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
