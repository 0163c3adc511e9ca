"""The two products with a convolution's column matrix, made in row blocks when that
is faster: ``z = col @ W`` (forward) and ``dW = col.T @ dz`` (backward).

A column matrix is tall (a row per output position) and its products are thin (a
column per filter). OpenBLAS, NumPy's BLAS, makes such products poorly in one call,
for two reasons measured here:

- **Few columns in ``col``** (at most 64, e.g. LeNet's first layer, 26): one call
  streams all of ``col`` through the cache for few filters; blocks whose rows of
  both operands fit a 1 MB L2 cache are 1.4x to 1.8x faster (:data:`_BLOCK_BYTES`),
  where the small-matrix kernel below is not there to take larger ones.
- **Its small-matrix kernel.** OpenBLAS's AVX-512 kernels ("SkylakeX", picked on
  every CPU with AVX-512, Intel's since Skylake-X and AMD's since Zen 4) make a
  product of at most ``100**3`` multiply-adds with a kernel that skips packing the
  operands (``kernel/x86_64/sgemm_small_kernel_permit_skylakex.c``), on the calling
  thread. For thin products it is the faster one: blocks of 413 rows for LeNet's
  second layer, ``col`` (6400, 151) and 16 filters, 0.30 instead of 0.40 ms forward
  and 0.32 instead of 0.44 ms for ``dW`` (1.33x, 1.39x); 1.16x to 1.38x on (2048,
  151), (8192, 73), (6400, 151), (8192, 289) with 16 to 64 filters. The same
  blocks with OpenBLAS's AVX2 kernels (Haswell, Zen) lose 7% to 25%, so they are
  only made where that kernel exists (:func:`openblas_small_kernel`).

Blocks change nothing but which kernel sums each dot product (results agree to
float rounding); one thread makes every block, where one call of the whole product
would be split over OpenBLAS's threads.

>>> import numpy as np
>>> col, kernel = np.ones((5000, 3), np.float32), np.ones((3, 2), np.float32)
>>> columns_times(col, kernel)[[0, -1]]
array([[3., 3.],
       [3., 3.]], dtype=float32)
"""

from __future__ import annotations

import functools
import importlib
import os

import numpy as np

from glassnet._typing import Array

__all__ = ["columns_t_times", "columns_times", "openblas_small_kernel"]

#: Rows per block of a product with few columns: the block's rows of both operands
#: take about this many bytes, so they stay in a 1 MB L2 cache.
_BLOCK_BYTES = 256 * 1024
#: OpenBLAS's small-matrix kernel takes products of at most this many multiply-adds.
_SMALL_PRODUCT = 100**3
#: Fewer rows per block than this would make too many calls for what they save.
_MIN_SMALL_ROWS = 32


@functools.cache
def openblas_small_kernel() -> bool:
    """Whether NumPy multiplies through OpenBLAS with its AVX-512 kernels, the ones
    with a small-matrix kernel (see the module docstring).

    True when NumPy was built against OpenBLAS and the CPU has the AVX-512
    instructions OpenBLAS asks of its "SkylakeX" kernels (F, CD, BW, DQ, VL), or
    when ``OPENBLAS_CORETYPE`` names one of those kernels; False for any other BLAS
    (MKL, Accelerate) or an older NumPy that cannot say. Asked once per process.
    """
    core = os.environ.get("OPENBLAS_CORETYPE", "").strip().lower()
    if core:
        return core in ("skylakex", "cooperlake", "sapphirerapids")
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # NumPy before 1.26 has no mode="dicts": assume another kernel
        return False
    return "openblas" in str(blas).lower() and _cpu_has_avx512()


def _cpu_has_avx512() -> bool:
    """NumPy's own CPU detection (the features ``np.show_runtime()`` lists)."""
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:  # NumPy 2, then 1.x
            features = importlib.import_module(module).__cpu_features__
        except (ImportError, AttributeError):
            continue
        return bool(features.get("AVX512_SKX", False))
    return False


def _row_blocks(col: Array, width: int) -> int | None:
    """Rows per block for a product of ``col`` with a ``width``-column matrix, or
    None to make it in one call.

    With OpenBLAS's small-matrix kernel, the largest blocks it takes: LeNet's first
    layer, ``col`` (50176, 26) and 6 filters, in blocks of 6410 rows: 0.36 ms
    forward and 0.26 ms for ``col.T @ dz``, against 0.40 and 0.28 in the L2-sized
    blocks of 2048 rows and 0.66 and 0.58 in one call. Without it, L2-sized blocks
    when ``col`` has at most 64 columns ((65536, 28) x 32: 1.4x, 1.7x), else one
    call (LeNet's second layer, 151 columns: L2-sized blocks lost 3%).
    """
    k = col.shape[1]
    if openblas_small_kernel():
        rows = _SMALL_PRODUCT // max(k * width, 1)
        if rows < _MIN_SMALL_ROWS:
            return None
    elif k <= 64:
        rows = max(256, _BLOCK_BYTES // ((k + width) * col.itemsize))
    else:
        return None
    return rows if len(col) >= 2 * rows else None


def columns_times(col: Array, kernel: Array) -> Array:
    """``col @ kernel``, (P, K) x (K, F) -> (P, F), in row blocks when faster.

    >>> col, kernel = np.arange(6.0).reshape(3, 2), np.ones((2, 1))
    >>> columns_times(col, kernel).ravel()
    array([1., 5., 9.])
    """
    rows = _row_blocks(col, kernel.shape[1])
    if rows is None:
        return col @ kernel
    out = np.empty((len(col), kernel.shape[1]), np.result_type(col, kernel))
    for start in range(0, len(col), rows):
        np.matmul(col[start : start + rows], kernel, out=out[start : start + rows])
    return out


def columns_t_times(col: Array, dz: Array) -> Array:
    """``col.T @ dz``, (P, K) and (P, F) -> (K, F), summed over row blocks when faster.

    >>> col, dz = np.ones((5000, 3), np.float32), np.ones((5000, 2), np.float32)
    >>> columns_t_times(col, dz)
    array([[5000., 5000.],
           [5000., 5000.],
           [5000., 5000.]], dtype=float32)
    """
    rows = _row_blocks(col, dz.shape[1])
    if rows is None:
        return col.T @ dz
    total = col[:rows].T @ dz[:rows]
    for start in range(rows, len(col), rows):
        total += col[start : start + rows].T @ dz[start : start + rows]
    return total
