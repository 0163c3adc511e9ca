"""Softmax's row maximum and division in one pass each, compiled by Numba
(glassnet/fused.py).

Why: on a batch of short rows (32 samples of 10 classes) NumPy's softmax is five
calls of a microsecond or more each, the row maximum alone 2.4 us: a reduction
along the last axis starts its inner loop once per row, and the broadcasting
subtraction and division pay for their iterators. Those five calls were 7 us of
the small benchmark network's 73 us step. Two loops do the maximum with the
subtraction, and the division, while ``exp`` and the row sums stay NumPy's: the
kernels compute exactly what NumPy computes (a maximum, a difference and a
quotient are each correctly rounded, whatever the order), but a sum depends on
its order and NumPy's ``exp`` is its own vector code, so neither is copied here.
The softmax on the small benchmark's output takes 4.7 us instead of 6.8 (the
calls' checks included).

:class:`~glassnet.activations.Softmax` asks :func:`shift_by_row_max` and
:func:`divide_rows` first and, when they answer None or False (Numba missing,
fused kernels off, arrays they do not take), runs its NumPy code, which stays the
reference (tests/test_fused_softmax.py compares both, bit for bit).

>>> import numpy as np
>>> x = np.array([[1.0, 3.0], [0.5, -1.0]])
>>> shifted = shift_by_row_max(x)
>>> shifted if shifted is not None else x - x.max(axis=-1, keepdims=True)
array([[-2. ,  0. ],
       [ 0. , -1.5]])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet._typing import Array
from glassnet.fused import KERNEL_DTYPES, compiled

__all__ = ["divide_rows", "shift_by_row_max"]


def _shift_by_row_max(x: Array, out: Array) -> None:
    # out = x - max(x) along each row; a NaN anywhere in a row makes its maximum
    # NaN, as np.maximum.reduce does (and then every entry of the row is NaN).
    for i in range(x.shape[0]):
        top = x[i, 0]
        for j in range(1, x.shape[1]):
            value = x[i, j]
            if value > top or value != value:
                top = value
                if top != top:
                    break
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] - top


def _divide_rows(e: Array, sums: Array) -> None:
    # e = e / sums, each row by its own sum (sums is (rows, 1), as keepdims gives)
    for i in range(e.shape[0]):
        total = sums[i, 0]
        for j in range(e.shape[1]):
            e[i, j] = e[i, j] / total


_SOURCES: dict[str, Callable[..., None]] = {
    "shift_by_row_max": _shift_by_row_max,
    "divide_rows": _divide_rows,
}


def shift_by_row_max(x: Array) -> Array | None:
    """``x - x.max(axis=-1, keepdims=True)`` as a new array, or None if it cannot.

    ``x`` must be float32 or float64, C-contiguous, with two axes or more and a
    last axis of at least one entry (every axis but the last is rows). None when
    fused kernels are off or ``x`` does not suit them: the caller then uses NumPy.

    >>> shifted = shift_by_row_max(np.array([[2.0, 5.0, 4.0]]))
    >>> shifted if shifted is not None else np.array([[-3.0, 0.0, -1.0]])
    array([[-3.,  0., -1.]])
    """
    kernels = compiled(_SOURCES)
    if kernels is None or x.dtype not in KERNEL_DTYPES or x.ndim < 2 or not x.size:
        return None
    if not x.flags.c_contiguous:
        return None
    out = np.empty_like(x)
    if x.ndim == 2:
        kernels["shift_by_row_max"](x, out)
    else:  # every position along the other axes is a row (views: x is contiguous)
        rows = (-1, x.shape[-1])
        kernels["shift_by_row_max"](x.reshape(rows), out.reshape(rows))
    return out


def divide_rows(e: Array, sums: Array) -> bool:
    """Divide ``e`` in place by ``sums`` (its row sums, keepdims); say whether it ran.

    ``e`` as :func:`shift_by_row_max` takes it, ``sums`` of the same dtype shaped
    ``e.shape[:-1] + (1,)``. False (``e`` untouched) when it cannot run.

    >>> e, sums = np.array([[1.0, 3.0]]), np.array([[4.0]])
    >>> e if divide_rows(e, sums) else e / sums
    array([[0.25, 0.75]])
    """
    kernels = compiled(_SOURCES)
    if kernels is None or e.dtype not in KERNEL_DTYPES or e.ndim < 2 or not e.size:
        return False
    if sums.dtype != e.dtype or sums.shape != (*e.shape[:-1], 1):
        return False
    if not e.flags.c_contiguous:
        return False
    if e.ndim == 2:
        kernels["divide_rows"](e, sums)
    else:
        kernels["divide_rows"](e.reshape(-1, e.shape[-1]), sums.reshape(-1, 1))
    return True
