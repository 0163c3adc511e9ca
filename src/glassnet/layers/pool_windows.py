"""Pooling windows: their geometry, and max and average pooling over them.

Images are channels_last, ``(batch, height, width, channels)``; the 1-D layers pass
``(batch, 1, steps, channels)``. A window of ``pool = (ph, pw)`` cells moves by
``strides = (sh, sw)``. Every loop here runs over the cells of a window, never over
the windows: the cells at offset ``(i, j)`` of every window form one strided slice
``x[:, i::sh, j::sw]`` (cut to the output's length), an ordinary NumPy view, so
each pass is vectorized over the batch, the positions and the channels, with no
copy of the input and no index arithmetic. For the usual 2x2 pool with stride 2
these views are the blocks of the reshape ``(N, OH, 2, OW, 2, C)``.

Why rows first: a view that picks every ``sw``-th pixel keeps only ``C`` numbers
contiguous, so with few channels (LeNet's 6) NumPy's inner loop is 6 long and a
pass costs about 10x a contiguous one. The maximum and the sum are separable, so
the forward passes reduce the ``ph`` rows of each window first, over slices
``x[:, i::sh]`` whose rows stay whole (``W * C`` contiguous numbers), then the
``pw`` columns of that smaller result: ``pw - 1`` slow passes instead of
``ph * pw - 1``. The average's backward spreads the same way, in reverse; the
max's backward scans every cell (see :func:`max_pool_backward`).

``padding="same"`` pads as TensorFlow does: ``total = max((ceil(n / s) - 1) * s + k
- n, 0)`` cells along an axis of length ``n``, ``total // 2`` before and the rest
after. Max pooling pads with ``-inf`` (a padded cell never wins); average pooling
pads with zeros and divides by the number of *real* cells in each window
(TensorFlow, JAX and ONNX's ``count_include_pad=False``).

>>> geometry = window_geometry((4, 4), (2, 2), (2, 2), "valid")
>>> geometry.out, geometry.tiles, geometry.disjoint
((2, 2), True, True)
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> max_pool(x, geometry)[0, :, :, 0]
array([[ 5.,  7.],
       [13., 15.]])
>>> same_padding(5, 3, 2)  # ceil(5 / 2) = 3 windows: (3 - 1) * 2 + 3 - 5 = 2 cells
(1, 1)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.layers.spatial_arguments import same_padding

__all__ = [
    "WindowGeometry",
    "average_pool",
    "average_pool_backward",
    "max_pool",
    "max_pool_backward",
    "max_pool_pairs",
    "max_pool_pairs_backward",
    "pad",
    "pairs_apply",
    "pooled_length",
    "window_geometry",
]


# -- geometry ----------------------------------------------------------------------
def pooled_length(size: int, pool: int, stride: int, padding: str) -> int:
    """Windows along an axis of ``size`` cells (0 or less: the axis is too short)."""
    if padding == "same":
        return math.ceil(size / stride)
    return (size - pool) // stride + 1


@dataclass(frozen=True)
class WindowGeometry:
    """Where the windows of one pooling layer sit on inputs of one size.

    Attributes
    ----------
    out : (int, int)
        Output height and width.
    pads : ((int, int), (int, int))
        Cells added before and after each axis ('same' padding; zeros for 'valid').
    rows, cols : tuple of slice
        For each row ``i`` (column ``j``) of a window, the slice of the padded
        input's height (width) that picks it from every window.
    offsets : tuple of (slice, slice)
        For each cell ``(i, j)`` of a window (row-major), the slices of the padded
        input that pick that cell from every window.
    tiles : bool
        The windows cover every input cell exactly once (no padding, strides equal
        to the pool, lengths divisible): a gradient needs no zero-filling.
    disjoint : bool
        No input cell lies in two windows (strides >= pool): gradients can be
        written instead of added up.
    """

    out: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    rows: tuple[slice, ...]
    cols: tuple[slice, ...]
    tiles: bool
    disjoint: bool

    # cached (the geometries are, by window_geometry): on the digits CNN's small
    # images rebuilding these per call was a few % of a training step
    @functools.cached_property
    def offsets(self) -> tuple[tuple[slice, slice], ...]:
        """The ``(rows, cols)`` slices of every cell of a window, row-major."""
        return tuple((r, c) for r in self.rows for c in self.cols)

    @functools.cached_property
    def padded(self) -> bool:
        """Whether any cell of padding is added."""
        return any(self.pads[0]) or any(self.pads[1])


@functools.lru_cache(maxsize=256)
def window_geometry(
    size: tuple[int, int],
    pool: tuple[int, int],
    strides: tuple[int, int],
    padding: str,
) -> WindowGeometry:
    """The windows of a 2-D pool over inputs of ``size = (height, width)``.

    The output lengths are 0 or less when an axis is shorter than the window
    ('valid'); the layers check that before pooling.
    """
    out = tuple(
        pooled_length(n, k, s, padding)
        for n, k, s in zip(size, pool, strides, strict=True)
    )
    if padding == "same":
        pads = tuple(
            same_padding(n, k, s) for n, k, s in zip(size, pool, strides, strict=True)
        )
    else:
        pads = ((0, 0), (0, 0))
    (oh, ow), (ph, pw), (sh, sw) = out, pool, strides
    rows = tuple(slice(i, i + sh * (oh - 1) + 1, sh) for i in range(ph))
    cols = tuple(slice(j, j + sw * (ow - 1) + 1, sw) for j in range(pw))
    disjoint = sh >= ph and sw >= pw
    tiles = pool == strides and pads == ((0, 0), (0, 0)) and size == (oh * ph, ow * pw)
    return WindowGeometry(out, pads, rows, cols, tiles, disjoint)  # type: ignore[arg-type]


def pad(x: Array, pads: tuple[tuple[int, int], tuple[int, int]], fill: float) -> Array:
    """``x`` (N, H, W, C) with ``pads`` cells of ``fill`` around its height and width."""
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    padded = np.full((n, h + top + bottom, w + left + right, c), fill, dtype=x.dtype)
    padded[:, top : top + h, left : left + w] = x
    return padded


def _gradient_buffer(
    shape: tuple[int, ...], dtype: Any, geometry: WindowGeometry
) -> Array:
    """Where the input gradient goes: zeros, unless the windows tile the input."""
    return (np.empty if geometry.tiles else np.zeros)(shape, dtype=dtype)


def _combine(op: Any, views: list[Array]) -> Array:
    """``op`` folded over ``views`` (a new array), or the one view itself."""
    if len(views) == 1:
        return views[0]
    out = op(views[0], views[1])
    for view in views[2:]:
        op(out, view, out=out)
    return out


# -- max pooling -------------------------------------------------------------------
def max_pool(xp: Array, geometry: WindowGeometry) -> Array:
    """``y[n, p, q, c]``: the largest cell of window ``(p, q)`` of the padded ``xp``.

    The largest of each window's rows first, over whole rows, then of its columns.
    """
    rows = _combine(np.maximum, [xp[:, r] for r in geometry.rows])
    y = _combine(np.maximum, [rows[:, :, c] for c in geometry.cols])
    return y.copy() if len(geometry.offsets) == 1 else y  # never a view of x


def max_pool_backward(
    xp: Array, y: Array, dy: Array, geometry: WindowGeometry
) -> Array:
    """dL/d(xp): each window's ``dy`` goes to its first largest cell (row-major).

    Only one cell per window receives the gradient, even when several hold the
    maximum (ties are common: a window of ReLU zeros, an integer image), as in
    PyTorch and TensorFlow. ``unclaimed`` marks the windows whose maximum has not
    been met yet in the scan over the window's cells.

    "First in row-major order" is not separable into rows then columns, so this
    scans all ``ph * pw`` cells. (A full-size mask built from contiguous passes,
    with shifted copies to settle ties, measured slower for 2x2 windows.)
    """
    dxp = _gradient_buffer(xp.shape, dy.dtype, geometry)
    unclaimed = np.ones(y.shape, dtype=bool)
    first = np.empty(y.shape, dtype=bool)
    last = len(geometry.offsets) - 1
    for k, (rows, cols) in enumerate(geometry.offsets):
        if k < last:
            np.equal(xp[:, rows, cols], y, out=first)
            first &= unclaimed
            unclaimed ^= first
        else:
            first = unclaimed  # the maximum is somewhere: the last cell if not before
        target = dxp[:, rows, cols]
        if geometry.disjoint:
            np.multiply(dy, first, out=target)
        else:
            target += dy * first
    return dxp


# -- max pooling over pairs of columns: the 2x2 (and 1x2) fast path ---------------
def pairs_apply(geometry: WindowGeometry, channels: int) -> bool:
    """Whether :func:`max_pool_pairs` handles these windows: side by side
    (strides = pool), two columns wide, one or two rows high (MaxPooling2D's
    default 2x2, MaxPooling1D(2)), on up to 8 channels. A 'valid' pool drops an
    odd last row or column.

    >>> pairs_apply(window_geometry((28, 28), (2, 2), (2, 2), "valid"), 6)
    True
    >>> pairs_apply(window_geometry((28, 28), (3, 3), (2, 2), "valid"), 6)
    False
    """
    rows, cols = geometry.rows, geometry.cols
    return (
        channels <= 8
        and len(cols) == 2
        and cols[0].step == 2
        and len(rows) in (1, 2)
        and rows[0].step == len(rows)
    )


def max_pool_pairs(xp: Array, geometry: WindowGeometry) -> tuple[Array, Array]:
    """``y`` and each window's first maximum, for the windows of :func:`pairs_apply`.

    Returns ``(y, first)``: ``first`` (N, rows*OH, 2*OW, C) is True at the one cell
    of each window that :func:`max_pool_backward` would send the window's
    gradient to, so the backward pass is one product (:func:`max_pool_pairs_backward`).
    The layer calls this in a training pass, while ``xp`` is still in the cache:
    the backward pass of LeNet's first pool then reads a 1-byte mask and ``dy``
    instead of the whole input again, long after it left the cache. Measured,
    float32, one thread, whole training steps against the same mask found in
    backward (interleaved, CPU time, busy machine): LeNet on the digits (bench_conv
    C2) 1.04x to 1.06x, the digits CNN (C1) 1.02x to 1.03x.

    The generic backward scans the window's cells with views that pick every other
    pixel: with few channels (LeNet's 6) each such pass moves runs of C numbers
    and costs about 10x a contiguous one, and it makes seven. Here the choices are
    made on whole rows. The two rows of each window meet first (contiguous runs of
    W*C numbers): ``rows`` is the larger, ``lower`` marks where row 1 is strictly
    larger (a tie picks row 0). In ``rows`` flattened, a left cell's partner sits C
    numbers further on, so comparing the array with itself shifted by C settles
    every window's column in a few contiguous passes: the right column holds the
    row-major first maximum (PyTorch's rule) if its best is strictly larger, or on
    a tie if the left column's best is in row 1 and the right's in row 0.

    Measured, float32, one thread, mask and backward together against the generic
    scan: LeNet's first pool (64x28x28x6 -> 14x14) 0.39 against 0.54 ms, the
    digits CNN's (32x8x8x8) 0.033 against 0.037 ms; with 16 channels (LeNet's
    second pool) the two are even, so the generic scan keeps those.

    >>> g = window_geometry((2, 4), (2, 2), (2, 2), "valid")
    >>> x = np.array([[1.0, 3.0, 5.0, 5.0], [3.0, 2.0, 0.0, 5.0]]).reshape(1, 2, 4, 1)
    >>> y, first = max_pool_pairs(x, g)
    >>> y[0, :, :, 0], first[0, :, :, 0].astype(int)   # ties: the first, row-major
    (array([[3., 5.]]), array([[0, 1, 1, 0],
           [0, 0, 0, 0]]))
    """
    (oh, ow), two_rows = geometry.out, len(geometry.rows) == 2
    width = 2 * ow
    if two_rows:
        top, bottom = xp[:, 0 : 2 * oh : 2, :width], xp[:, 1 : 2 * oh : 2, :width]
        rows = np.maximum(top, bottom)  # (N, OH, 2*OW, C)
        lower = np.greater(bottom, top)
    else:
        rows = np.ascontiguousarray(xp[:, :oh, :width])
    c = rows.shape[3]
    flat = rows.reshape(-1)
    # right[k], k a left cell: the window's first maximum is in the right column
    right = np.zeros(flat.size, bool)
    np.greater(flat[c:], flat[:-c], out=right[:-c])
    if two_rows:
        low = lower.reshape(-1)
        tie = np.equal(flat[c:], flat[:-c])
        tie &= low[:-c]
        tie &= ~low[c:]
        right[:-c] |= tie
    # the chosen column at full width: left cell k if not right[k], right cell k
    # if right[k - C]
    odd = _odd_columns(flat.size, c)
    chosen = np.logical_or(odd, right)
    np.logical_not(chosen, out=chosen)
    chosen[c:] |= odd[c:] & right[:-c]
    chosen = chosen.reshape(rows.shape)
    y = np.maximum(rows[:, :, 0::2], rows[:, :, 1::2])  # (N, OH, OW, C)
    if not two_rows:
        return y, chosen
    first = np.empty((len(xp), oh, 2, width, c), bool)  # (.., row, column, ..)
    np.logical_and(chosen, ~lower, out=first[:, :, 0])
    np.logical_and(chosen, lower, out=first[:, :, 1])
    return y, first.reshape(len(xp), 2 * oh, width, c)


def max_pool_pairs_backward(
    first: Array, dy: Array, padded_shape: tuple[int, ...], geometry: WindowGeometry
) -> Array:
    """dL/d(xp) from the first-maximum mask of :func:`max_pool_pairs`: ``dy`` at
    both columns and rows of its window, kept at the first maximum.

    One product writes every window cell (a product into dxp's odd rows, then
    another from them into its even rows, would make NumPy copy the interleaved
    operand); ``dy`` is spread over the two columns first, the one pass with runs
    of C numbers.

    >>> g = window_geometry((2, 4), (2, 2), (2, 2), "valid")
    >>> first = np.array([[0, 1, 1, 0], [0, 0, 0, 0]], bool).reshape(1, 2, 4, 1)
    >>> max_pool_pairs_backward(first, np.array([[[[10.0], [20.0]]]]), (1, 2, 4, 1), g)[0, :, :, 0]
    array([[ 0., 10., 20.,  0.],
           [ 0.,  0.,  0.,  0.]])
    """
    (oh, ow), ph = geometry.out, len(geometry.rows)
    width = 2 * ow
    spread = np.repeat(dy, 2, axis=2)  # (N, OH, 2*OW, C)
    covered = padded_shape[1] == oh * ph and padded_shape[2] == width
    dxp = (np.empty if covered else np.zeros)(padded_shape, dtype=dy.dtype)
    cells = dxp[:, : ph * oh, :width].reshape(len(dy), oh, ph, width, -1)
    np.multiply(
        spread[:, :, np.newaxis], first.reshape(cells.shape), out=cells
    )  # (N, OH, row, 2*OW, C)
    return dxp


@functools.lru_cache(maxsize=16)
def _odd_columns(size: int, channels: int) -> Array:
    """For a flattened (..., width, C) array: True at the cells of odd columns."""
    return (np.arange(size) // channels) % 2 == 1


# -- average pooling ---------------------------------------------------------------
def inverse_counts(
    size: tuple[int, int],
    pool: tuple[int, int],
    strides: tuple[int, int],
    geometry: WindowGeometry,
    dtype: Any,
) -> Any:
    """``1 / (real cells in each window)``: a scalar, or (OH, OW, 1) with padding."""
    if not geometry.padded:
        return np.asarray(1.0 / (pool[0] * pool[1]), dtype=dtype)
    counts = []
    for n, k, s, o, (before, _) in zip(
        size, pool, strides, geometry.out, geometry.pads, strict=True
    ):
        start = np.arange(o) * s - before
        counts.append(np.minimum(start + k, n) - np.maximum(start, 0))
    real = counts[0][:, None] * counts[1][None, :]
    return (1.0 / real).astype(dtype)[:, :, None]


def average_pool(xp: Array, geometry: WindowGeometry, inverse_count: Any) -> Array:
    """``y[n, p, q, c]``: the sum of window ``(p, q)`` of ``xp`` times ``inverse_count``.

    The sum of each window's rows first, over whole rows, then of its columns.
    """
    rows = _combine(np.add, [xp[:, r] for r in geometry.rows])
    total = _combine(np.add, [rows[:, :, c] for c in geometry.cols])
    if len(geometry.offsets) == 1:
        return total * inverse_count  # total is a view of xp
    total *= inverse_count
    return total


def average_pool_backward(
    padded_shape: tuple[int, ...],
    dy: Array,
    geometry: WindowGeometry,
    inverse_count: Any,
) -> Array:
    """dL/d(xp): every cell of a window gets the window's ``dy / count``.

    Spread over each window's columns first (into one row per window row), then
    copied to each of its rows, whole rows at a time.
    """
    n, height, width, channels = padded_shape
    (oh, ow), ph, pw = geometry.out, len(geometry.rows), len(geometry.cols)
    share = dy * inverse_count
    return _spread(
        _spread(share, geometry.cols, (n, oh, width, channels), 2, ow * pw == width),
        geometry.rows,
        padded_shape,
        1,
        oh * ph == height,
    )


def _spread(
    values: Array,
    slices: tuple[slice, ...],
    shape: tuple[int, ...],
    axis: int,
    covered: bool,
) -> Array:
    """An array of ``shape`` holding ``values`` added at each of ``slices`` of ``axis``.

    ``covered``: the slices (if they do not overlap) fill the whole axis, so no
    zero-filling is needed.
    """
    disjoint = slices[0].step >= len(slices)  # stride >= pool: no cell twice
    out = (np.empty if covered and disjoint else np.zeros)(shape, dtype=values.dtype)
    for piece in slices:
        index = (slice(None),) * axis + (piece,)
        if disjoint:
            out[index] = values
        else:
            out[index] += values
    return out
