"""dL/dx of a convolution: two ways to compute it, and the rule choosing one.

With ``z = col @ W.reshape(K*C, F)`` (``layers/im2col.py``), the column matrix's
gradient is ``dcol = dz @ W.T``, and each input pixel gets the sum of the entries
of ``dcol`` that were copies of it. Both ways below compute that sum; they differ
in how the work is split between matrix products and NumPy additions.

**Per kernel offset** (:func:`offset_blocks_input_grad`, every convolution):
``dblocks[k] = dz @ W[k].T`` (P, C) for each of the K = kh*kw offsets, one batched
product, then each block is added back at the strided slice of the padded input it
was copied from (col2im). The K products have only C columns each, which BLAS
makes slowly when C is small, and col2im adds K*P*C numbers.

**By kernel row, through a banded matrix** (:func:`banded_input_grad`, fewer than
16 input channels, no dilation): for one output row and one kernel row ``i``, the
outputs of a tile of T neighbouring columns reach a stretch of
``span = (T - 1)*sw + kw`` input columns, and their gradient there is one product
``dz[tile] (T*F,) @ band_i (T*F, span*C)``, where ``band_i`` holds ``W[i]`` shifted
by ``sw`` columns per output (zeros elsewhere). All tiles and kernel rows make one
GEMM, ``(N*OH*tiles, T*F) @ (T*F, kh*span*C)``; each kernel row's result is then
added into its input rows, a few additions of long runs (2*kh of them). The band's
zeros cost ``span / kw`` times the useful multiplications, and T balances that
waste against the shorter runs and overlapping tiles of small tiles.

>>> import numpy as np
>>> from glassnet.layers.im2col import ConvGeometry
>>> g = ConvGeometry.plan((3, 3), (2, 2), (1, 1), (1, 1), "valid")
>>> kernel = np.ones((2, 2, 1, 1))
>>> input_gradient(np.ones((4, 1)), kernel, g, 1)[0, :, :, 0]   # windows per pixel
array([[1., 2., 1.],
       [2., 4., 2.],
       [1., 2., 1.]])
"""

from __future__ import annotations

import numpy as np

from glassnet._typing import Array
from glassnet.layers.im2col import ConvGeometry, Workspace

__all__ = [
    "band_tile",
    "banded_applies",
    "banded_input_grad",
    "block_grads",
    "col2im",
    "input_gradient",
    "offset_blocks_input_grad",
]

#: The banded product wins below this many input channels. Measured, dx alone,
#: float32, one thread, interleaved bursts, against the per-offset blocks:
#: LeNet's second layer (64x14x14x6, 5x5 valid, 16 filters) 0.83 against 1.25 ms;
#: the digits CNN's second (32x4x4x8, 3x3 same) 1.19x; 3 -> 32 filters (32x32,
#: 3x3) 1.9x, 8 -> 64 1.3x, 12 -> 24 1.3x, 1 -> 6 (28x28, 5x5) 1.35x, a Conv1D
#: (100 steps, 8 -> 16, k=5) 1.25x, stride 2 1.5x. Even at 16 channels (0.98x to
#: 1.01x), and 0.80x to 0.96x from 32 channels up (32 -> 32, 32 -> 64, 64 -> 128),
#: where the per-offset products are no longer thin and the band's zeros cost
#: more than col2im's additions save. Dilation widens the band: 0.77x at
#: dilation 2, so dilated convolutions keep the per-offset blocks.
BANDED_MAX_CHANNELS = 15


def input_gradient(
    dz: Array,
    kernel: Array,
    g: ConvGeometry,
    batch: int,
    space: Workspace | None = None,
) -> Array:
    """dL/dx (N, H, W, C) from ``dz`` (N*OH*OW, F) and the kernel (kh, kw, C, F).

    Takes the banded product where :func:`banded_applies`, the per-offset blocks
    elsewhere; both give the same numbers up to float rounding. ``space`` lends
    scratch buffers; the result is always fresh (or a view of a fresh array).
    """
    if banded_applies(g, kernel.shape[2]):
        return banded_input_grad(dz, kernel, g, batch, space)
    return offset_blocks_input_grad(dz, kernel, g, batch, space)


def banded_applies(g: ConvGeometry, channels: int) -> bool:
    """Whether :func:`input_gradient` takes the banded product (see
    :data:`BANDED_MAX_CHANNELS` for what was measured).

    >>> from glassnet.layers.im2col import ConvGeometry
    >>> lenet = ConvGeometry.plan((14, 14), (5, 5), (1, 1), (1, 1), "valid")
    >>> banded_applies(lenet, 6), banded_applies(lenet, 32)
    (True, False)
    """
    return channels <= BANDED_MAX_CHANNELS and g.dilation == (1, 1)


def band_tile(out_width: int, kernel_width: int) -> int:
    """Output columns per tile of the banded product.

    Tiles narrower than ``kw - 1`` overlap three or more at a time (more, shorter
    additions); wider ones multiply more zeros. Of the widths from ``kw - 1`` to
    ``2*(kw - 1)`` (at least 1, at most the output width) it takes the one whose
    tiles pad the output row least, the narrowest among equals. Measured best or
    within 5% of the best on every shape above: LeNet's second layer 5 (10
    columns, 5x5), 4 for 28 columns under 5x5, 2 under 3x3.

    >>> band_tile(10, 5), band_tile(28, 5), band_tile(32, 3), band_tile(7, 1)
    (5, 4, 2, 1)
    """
    low = max(kernel_width - 1, 1)
    widths = range(min(low, out_width), min(2 * low, out_width) + 1)
    return min(widths, key=lambda t: (-(-out_width // t) * t, t))


def banded_input_grad(
    dz: Array,
    kernel: Array,
    g: ConvGeometry,
    batch: int,
    space: Workspace | None = None,
) -> Array:
    """dL/dx by kernel row through a banded kernel matrix (any stride, dilation 1).

    ``band[t, f, i, t*sw + j, c] = W[i, j, c, f]``: row ``(t, f)`` of kernel row
    ``i``'s block holds ``W[i]`` shifted to where output ``t`` of a tile reads.
    ``dz`` in tiles of T output columns, ``(N*OH*tiles, T*F)``, times the band
    gives each tile's gradient on the ``span`` input columns it reads, for every
    kernel row; kernel row ``i``'s part is added to input rows ``oh*sh + i``, and
    tiles that overlap (``span > T*sw``) are added in separate groups.

    >>> import numpy as np
    >>> from glassnet.layers.im2col import ConvGeometry
    >>> g = ConvGeometry.plan((1, 4), (1, 2), (1, 1), (1, 1), "valid")  # 3 outputs
    >>> kernel = np.array([1.0, 10.0]).reshape(1, 2, 1, 1)  # y[t] = x[t] + 10 x[t+1]
    >>> banded_input_grad(np.array([[1.0], [2.0], [3.0]]), kernel, g, 1)[0, 0, :, 0]
    array([ 1., 12., 23., 30.])
    """
    if g.dilation != (1, 1):
        raise ValueError(f"the banded product takes dilation 1, not {g.dilation}")
    space = Workspace() if space is None else space
    (kh, kw), (oh, ow) = g.kernel_size, g.output_size
    sw, (hp, wp) = g.strides[1], g.padded_size
    _, _, c, f = kernel.shape
    tile = band_tile(ow, kw)
    tiles = -(-ow // tile)
    span, step = (tile - 1) * sw + kw, tile * sw  # input columns a tile reads, moves
    dtype = np.result_type(dz, kernel)
    band = space.zeros("band", (tile, f, kh, span, c), dtype)  # zero off the band
    s = band.strides
    on_band = (tile, f, kh, kw, c), (s[0] + sw * s[3], s[1], s[2], s[3], s[4])
    _writable_view(band, 0, *on_band)[...] = kernel.transpose(3, 0, 1, 2)
    grads = dz.reshape(batch, oh, ow, f)
    if tiles * tile != ow:  # the last tile runs past the row: zero gradients there
        wide = space.zeros("band dz", (batch, oh, tiles * tile, f), dtype)
        wide[:, :, :ow] = grads
        grads = wide
    parts = space.empty("band parts", (batch * oh * tiles, kh * span * c), dtype)
    np.matmul(
        grads.reshape(-1, tile * f), band.reshape(tile * f, -1), out=parts
    )  # parts[(n, oh, t), (i, column, c)]
    width = max(wp, (tiles - 1) * step + span)
    dxp = np.zeros((batch, hp, width, c), dtype)
    _add_band_rows(dxp, parts.reshape(batch, oh, tiles, kh, span * c), g, step)
    (top, _), (left, _) = g.pads
    h, w = g.input_size
    if (h, w) == (hp, width):
        return dxp
    return dxp[:, top : top + h, left : left + w]


def _add_band_rows(dxp: Array, parts: Array, g: ConvGeometry, step: int) -> None:
    """Add each kernel row's tile gradients ``parts`` (N, OH, tiles, kh, span*C)
    into the padded gradient ``dxp`` (N, Hp, width, C).

    Kernel row ``i`` of output row ``oh`` lands on input row ``oh*sh + i``; tile
    ``t`` starts at column ``t*step``. Tiles ``groups`` apart never overlap, so
    each (kernel row, group) pair is one addition into a strided view: rows ``sh``
    apart, tiles ``groups*step`` columns apart, ``span*C`` numbers each.
    """
    batch, oh, tiles, kh, run = parts.shape
    c = dxp.shape[3]
    sh = g.strides[0]
    groups = -(-run // (step * c)) if tiles > 1 else 1
    s_n, s_h, s_w, s_c = dxp.strides
    for i in range(kh):
        for first in range(min(groups, tiles)):
            count = len(range(first, tiles, groups))
            target = _writable_view(
                dxp,
                i * s_h + first * step * s_w,
                (batch, oh, count, run),
                (s_n, sh * s_h, groups * step * s_w, s_c),
            )
            target += parts[:, :, first::groups, i]


def _writable_view(
    base: Array, offset: int, shape: tuple[int, ...], strides: tuple[int, ...]
) -> Array:
    """A writable strided view of the C-contiguous ``base``, ``offset`` bytes in
    (NumPy checks that it stays inside ``base``). Several times cheaper than
    ``as_strided``, which matters for the 2*kh views of a small layer."""
    return np.ndarray(shape, base.dtype, base, offset, strides)


# -- per kernel offset: batched products and col2im ----------------------------------
def offset_blocks_input_grad(
    dz: Array,
    kernel: Array,
    g: ConvGeometry,
    batch: int,
    space: Workspace | None = None,
) -> Array:
    """dL/dx from the per-offset gradient blocks, added back by :func:`col2im`."""
    return col2im(block_grads(dz, kernel, space), g, batch)


def block_grads(dz: Array, kernel: Array, space: Workspace | None = None) -> Array:
    """dL/d(blocks) (K, P, C) from ``dz`` (P, F) and the kernel (kh, kw, C, F).

    ``blocks[k] @ W[k]`` summed over k is z, so ``dblocks[k] = dz @ W[k].T``: one
    batched matrix product over the K offsets (one GEMM ``W (K, F) @ dz.T`` when
    C == 1).

    >>> kernel = np.arange(8.0).reshape(2, 2, 1, 2)       # W[k] = (2k, 2k+1)
    >>> block_grads(np.array([[1.0, 0.0], [0.0, 1.0]]), kernel)[:, :, 0]
    array([[0., 1.],
           [2., 3.],
           [4., 5.],
           [6., 7.]])
    """
    kh, kw, c, f = kernel.shape
    shape = (kh * kw, dz.shape[0], c)
    out = (
        np.empty(shape, dz.dtype)
        if space is None
        else space.empty("dblocks", shape, dz.dtype)
    )
    if c == 1:  # the K products dz @ W[k].T are the rows of one GEMM: W (K, F) @ dz.T
        np.matmul(kernel.reshape(kh * kw, f), dz.T, out=out.reshape(kh * kw, -1))
        return out
    # (K, F, C) made contiguous: NumPy's stacked matmul is 1.3x faster on it
    per_offset = np.ascontiguousarray(kernel.reshape(kh * kw, c, f).transpose(0, 2, 1))
    return np.matmul(dz, per_offset, out=out)


def col2im(dblocks: Array, g: ConvGeometry, batch: int) -> Array:
    """dL/dx (N, H, W, C): each gradient block added back where im2col copied it.

    The blocks are (K, N*OH*OW, C); block ``k = i*kw + j`` is added to the strided
    window ``(i, j)`` of a zero padded gradient, and the padding is cropped off
    (a view of the padded array; a fresh array when there is no padding).

    Every pixel of a 3x3 image under a 2x2 kernel (stride 1) gets the gradients of
    the windows that hold it: 1 in a corner, 2 on an edge, 4 in the middle.

    >>> from glassnet.layers.im2col import ConvGeometry
    >>> g = ConvGeometry.plan((3, 3), (2, 2), (1, 1), (1, 1), "valid")
    >>> col2im(np.ones((4, 4, 1)), g, batch=1)[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    oh, ow = g.output_size
    c = dblocks.shape[2]
    dxp = np.zeros((batch, *g.padded_size, c), dblocks.dtype)
    blocks = dblocks.reshape(-1, batch, oh, ow, c)
    for block, window in zip(blocks, g.windows, strict=True):
        dxp[window] += block
    if not g.needs_padding:
        return dxp
    (top, _), (left, _) = g.pads
    h, w = g.input_size
    return dxp[:, top : top + h, left : left + w, :]
