"""The column kernels behind Conv1D and Conv2D: im2col forward, col2im backward.

A convolution is one matrix product once every receptive field is laid out as a
row (the *column matrix*). For images ``x`` shaped (N, H, W, C), a kernel ``W``
shaped (kh, kw, C, F) and outputs (N, OH, OW, F), with P = N*OH*OW positions and
K = kh*kw kernel offsets::

    col[p, (i, j, c)] = x_padded[n, oh*sh + i*dh, ow*sw + j*dw, c]     (P, K*C)
    z = col @ W.reshape(K*C, F)                                         (P, F)

**How the columns are made.** The padded input is written once into a reused
buffer whose border stays zero. With C > 1, one strided view of it,
``windows[n, oh, ow, i, j, c]``, is every receptive field at once (no copy), and
one copy lays the fields out as the rows of the column matrix: each window row
``(j, c)`` is kw*C numbers contiguous on both sides (:func:`_window_rows`). With
C == 1 those runs would be kw numbers long, so instead each of the K offsets
``(i, j)`` copies the strided slice of the padded input it sees into block
``k = i*kw + j`` of a (K, P) buffer (runs of OW numbers), and the column matrix is
the blocks' transpose, a view BLAS reads in place (:func:`_offset_blocks`). (The
earlier layout, blocks (K, P, C) plus one transposing copy into (P, K*C), moves
runs of C numbers: the window view measured 2.2x to 5x faster for every C > 1.)
A bias adds a column of ones, so that one product adds it.

The products with the column matrix are in ``layers/column_products.py``. **The
way back.** Given ``dz`` (P, F): ``dW = col.T @ dz`` (with the ones column its last
row is ``db``), and ``dx`` from ``dz`` and the kernel in
``layers/conv_input_grad.py``.

>>> import numpy as np
>>> g = ConvGeometry.plan((4, 4), (3, 3), (1, 1), (1, 1), "same")
>>> g.pads, g.output_size
(((1, 1), (1, 1)), (4, 4))
>>> x = np.arange(16.0).reshape(1, 4, 4, 1)
>>> col = im2col(x, g)
>>> col.shape                      # (N*OH*OW, kh*kw*C)
(16, 9)
>>> col[5].reshape(3, 3)           # the 3x3 field around x[0, 1, 1]
array([[ 0.,  1.,  2.],
       [ 4.,  5.,  6.],
       [ 8.,  9., 10.]])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.layers.spatial_arguments import same_padding

__all__ = [
    "ConvGeometry",
    "Workspace",
    "conv_output_length",
    "im2col",
]


def conv_output_length(
    size: int, kernel: int, stride: int, dilation: int, pads: tuple[int, int]
) -> int:
    """Output positions along one axis: ``floor((padded - span) / s) + 1``.

    ``span = (k - 1) * d + 1`` is the extent of one dilated kernel; the result is
    0 or less when the padded input is shorter than that.

    >>> conv_output_length(28, 5, 1, 1, (0, 0)), conv_output_length(7, 3, 2, 1, (0, 0))
    (24, 3)
    """
    span = (kernel - 1) * dilation + 1
    return (size + pads[0] + pads[1] - span) // stride + 1


@dataclass(frozen=True)
class ConvGeometry:
    """Everything the kernels need to know about one 2-D convolution's shapes.

    Attributes
    ----------
    input_size, kernel_size, strides, dilation : (int, int)
        Height and width of each.
    pads : ((top, bottom), (left, right))
        Zeros added around the input.
    output_size : (int, int)
        ``(OH, OW)``.

    >>> g = ConvGeometry.plan((6, 5), (2, 3), (2, 2), (1, 1), "same")
    >>> g.pads, g.output_size, g.padded_size
    (((0, 0), (1, 1)), (3, 3), (6, 7))
    """

    input_size: tuple[int, int]
    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    output_size: tuple[int, int]

    @classmethod
    def plan(
        cls,
        input_size: tuple[int, int],
        kernel_size: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
        padding: str,
    ) -> ConvGeometry:
        """The geometry for ``padding`` "valid", "same" or "causal" (left pad only).

        "causal" pads the width axis on the left by ``(k - 1) * d`` (Conv1D runs as a
        2-D convolution of height 1). The caller checks that every output size is
        positive.
        """
        pads = []
        for size, k, s, d in zip(
            input_size, kernel_size, strides, dilation, strict=True
        ):
            if padding == "same":
                pads.append(same_padding(size, k, s, d))
            elif padding == "causal":
                pads.append(((k - 1) * d, 0))
            else:
                pads.append((0, 0))
        out = tuple(
            conv_output_length(n, k, s, d, p)
            for n, k, s, d, p in zip(
                input_size, kernel_size, strides, dilation, pads, strict=True
            )
        )
        return cls(
            tuple(input_size),  # type: ignore[arg-type]
            tuple(kernel_size),  # type: ignore[arg-type]
            tuple(strides),  # type: ignore[arg-type]
            tuple(dilation),  # type: ignore[arg-type]
            (pads[0], pads[1]),
            out,  # type: ignore[arg-type]
        )

    # cached: a layer keeps its geometry from step to step, and on small images
    # (the digits CNN) these little computations were ~5% of a training step
    @functools.cached_property
    def padded_size(self) -> tuple[int, int]:
        """Height and width of the padded input."""
        (top, bottom), (left, right) = self.pads
        return self.input_size[0] + top + bottom, self.input_size[1] + left + right

    @functools.cached_property
    def needs_padding(self) -> bool:
        """Whether any zeros are added around the input."""
        return any(p for pair in self.pads for p in pair)

    def window(self, i: int, j: int) -> tuple[slice, slice, slice, slice]:
        """The index of the padded input that kernel offset ``(i, j)`` sees.

        Rows ``i*dh, i*dh + sh, ...`` (OH of them), columns likewise: the slice
        whose entries meet ``W[i, j]`` at every output position.
        """
        return self.windows[i * self.kernel_size[1] + j]

    @functools.cached_property
    def windows(self) -> tuple[tuple[slice, slice, slice, slice], ...]:
        """:meth:`window` of every offset, row-major (``k = i*kw + j``)."""
        (kh, kw), (oh, ow) = self.kernel_size, self.output_size
        (sh, sw), (dh, dw) = self.strides, self.dilation
        return tuple(
            (
                slice(None),
                slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
                slice(j * dw, j * dw + (ow - 1) * sw + 1, sw),
                slice(None),
            )
            for i in range(kh)
            for j in range(kw)
        )


class Workspace:
    """Scratch arrays a layer reuses from one step to the next.

    Only arrays that never leave a call live here (the padded input, the gradient
    blocks): anything kept in a cache or returned is fresh (the column matrix
    too), so a layer called twice in one model (its caches swapped by the walk)
    never sees one call overwrite the other's values, and inference leaves no
    column-sized buffer behind.

    >>> space = Workspace()
    >>> a = space.zeros("pad", (2, 3), np.float32)
    >>> a is space.zeros("pad", (2, 3), np.float32), a is space.zeros("pad", (3, 3), np.float32)
    (True, False)
    """

    def __init__(self) -> None:
        self._arrays: dict[str, Array] = {}

    def _get(
        self, name: str, shape: tuple[int, ...], dtype: Any, fill: float | None
    ) -> Array:
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = (
                np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
            )
            self._arrays[name] = array
        return array

    def empty(self, name: str, shape: tuple[int, ...], dtype: Any) -> Array:
        """A reused array of ``shape`` whose values are left over (write all of it)."""
        return self._get(name, shape, np.dtype(dtype), None)

    def zeros(self, name: str, shape: tuple[int, ...], dtype: Any) -> Array:
        """A reused array of ``shape``, zero when first made: parts never written
        (a padded input's border) stay zero."""
        return self._get(name, shape, np.dtype(dtype), 0.0)

    def clear(self) -> None:
        """Forget every array (the memory returns once nothing else holds it)."""
        self._arrays.clear()


def _padded(x: Array, g: ConvGeometry, space: Workspace | None) -> Array:
    """``x`` with the geometry's zeros around it (``x`` itself when there are none)."""
    if not g.needs_padding:
        return x
    (top, _), (left, _) = g.pads
    shape = (x.shape[0], *g.padded_size, x.shape[3])
    xp = (
        np.zeros(shape, x.dtype)
        if space is None
        else space.zeros("padded", shape, x.dtype)
    )
    xp[:, top : top + x.shape[1], left : left + x.shape[2], :] = x
    return xp


def im2col(
    x: Array, g: ConvGeometry, space: Workspace | None = None, *, ones: bool = False
) -> Array:
    """The column matrix of ``x`` (N, H, W, C): shape (N*OH*OW, kh*kw*C).

    Row ``p = (n, oh, ow)`` holds the receptive field of output ``(n, oh, ow)``,
    ordered ``(i, j, c)`` like the rows of ``W.reshape(kh*kw*C, F)``. ``ones=True``
    appends a column of ones, (N*OH*OW, kh*kw*C + 1): times a kernel matrix whose
    last row is the bias, the one matrix product adds the bias, and ``col.T @ dz``
    yields ``db`` as the last row of ``dW`` (see ``BaseConv.forward``).

    ``space`` lends the padded-input buffer. The columns are always a fresh array:
    a training pass caches them for backward, and inference lets them go when the
    call returns (``predict`` keeps no column buffer alive). For C == 1 the result
    is a transposed (Fortran-ordered) view of the offset blocks.

    >>> g = ConvGeometry.plan((3, 3), (2, 2), (1, 1), (1, 1), "valid")
    >>> im2col(np.arange(18.0).reshape(1, 3, 3, 2), g)[0]   # x[0, :2, :2, :]
    array([0., 1., 2., 3., 6., 7., 8., 9.])
    >>> im2col(np.arange(9.0).reshape(1, 3, 3, 1), g, ones=True)[0]
    array([0., 1., 3., 4., 1.])
    """
    xp = _padded(x, g, space)
    if x.shape[3] == 1:
        return _offset_blocks(xp, g, ones)
    return _window_rows(xp, g, ones)


def _offset_blocks(xp: Array, g: ConvGeometry, ones: bool) -> Array:
    """C == 1: the K strided slices copied into blocks (K, P); columns = blocks.T.

    ``offsets[i, j, n, oh, ow] = xp[n, oh*sh + i*dh, ow*sw + j*dw, 0]`` is a view;
    one copy lays it out as the blocks, each a contiguous row of P numbers read in
    runs of OW, and the transpose is a view BLAS reads in place. For one channel
    this beats the window copy of :func:`_window_rows` (whose runs are only kw
    long) 3x to 7x (LeNet's first layer, 64x28x28x1 under 5x5 'same': 0.35 ms
    against 1.27 ms). One copy rather than one per offset: 1.5x on the digits
    CNN's first layer (0.025 -> 0.017 ms), 1.1x on LeNet's.
    """
    (kh, kw), (oh, ow) = g.kernel_size, g.output_size
    (sh, sw), (dh, dw) = g.strides, g.dilation
    n, k = xp.shape[0], kh * kw
    s_n, s_h, s_w, _ = xp.strides
    offsets = _view(
        xp, (kh, kw, n, oh, ow), (s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw)
    )
    blocks = np.empty((k + ones, n * oh * ow), xp.dtype)
    np.copyto(blocks[:k].reshape(offsets.shape), offsets)
    if ones:
        blocks[k] = 1.0
    return blocks.T


def _window_rows(xp: Array, g: ConvGeometry, ones: bool) -> Array:
    """C > 1: every window copied at once into its row, through one strided view.

    ``windows[n, oh, ow, i, j, c] = xp[n, oh*sh + i*dh, ow*sw + j*dw, c]`` is a view
    (no copy) of the padded input; one copy lays it out as the rows of the column
    matrix. With no dilation, each window row ``(j, c)`` is kw*C numbers contiguous
    in ``xp`` and in the columns, so the copy moves runs of kw*C numbers. Measured
    against the offset blocks plus one transposing copy (whose runs are C long),
    float32, one thread: 4.6x faster on LeNet's second layer (64x14x14x6 under
    5x5: 0.22 ms against 1.02 ms), 2.2x to 5x on every C from 2 to 64.
    """
    (kh, kw), (oh, ow) = g.kernel_size, g.output_size
    (sh, sw), (dh, dw) = g.strides, g.dilation
    n, _, _, c = xp.shape
    s_n, s_h, s_w, s_c = xp.strides
    windows = _view(
        xp,
        (n, oh, ow, kh, kw, c),
        (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c),
    )
    width = kh * kw * c
    col = np.empty((n * oh * ow, width + ones), xp.dtype)
    np.copyto(col[:, :width].reshape(windows.shape), windows)
    if ones:
        col[:, width] = 1.0
    return col


def _view(x: Array, shape: tuple[int, ...], strides: tuple[int, ...]) -> Array:
    """A read-only strided view of ``x``'s memory (which it must stay inside)."""
    if x.flags.c_contiguous:  # the same view as as_strided's, 6x cheaper (4 us)
        view = np.ndarray(shape, x.dtype, x, 0, strides)
        view.flags.writeable = False
        return view
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
