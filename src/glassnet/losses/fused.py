"""Softmax + sparse cross-entropy's gradient in one pass, compiled by Numba
(glassnet/fused.py).

Why: ``dL/dz = (softmax(z) - onehot(labels)) / n`` is, in NumPy, the one-hot rows
(a read of the identity matrix), a subtraction and a division, plus the reshapes
and label conversions around them: 4.1 us per step on the small benchmark
network's 32 x 10 output, most of it per-call overhead. With one loop over the
probabilities it takes 2.9 us (the loop's call about 1.5 us, the rest the label
conversions around it). Each entry is ``(p - 1) / n`` or ``(p - 0) / n``
in the arrays' precision, exactly what NumPy computes, so the results are equal
bit for bit (tests/test_fused_losses.py).

:meth:`SparseCategoricalCrossentropy.logits_gradient
<glassnet.losses.SparseCategoricalCrossentropy.logits_gradient>` asks
:func:`sparse_softmax_gradient` first and, when it answers None (Numba missing,
fused kernels off, arrays it does not take, a label outside ``[0, k)``), runs its
NumPy code, the reference.

>>> import numpy as np
>>> p, labels = np.array([[0.25, 0.75]]), np.array([1])
>>> grad = sparse_softmax_gradient(p, labels)
>>> grad if grad is not None else p - [[0.0, 1.0]]
array([[ 0.25, -0.25]])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet._typing import Array
from glassnet.fused import ZERO_ONE, compiled

__all__ = ["sparse_softmax_gradient"]


def _sparse_softmax_gradient(
    p: Array, labels: Array, grad: Array, n: float, one: float, zero: float
) -> bool:
    # grad = (p - onehot(labels)) / n, row by row; False (grad unwritten) when a
    # label is not a column of p, which the NumPy code then reports or wraps.
    k = p.shape[1]
    for i in range(p.shape[0]):
        if labels[i] < 0 or labels[i] >= k:
            return False
    for i in range(p.shape[0]):
        label = labels[i]
        for j in range(k):
            grad[i, j] = (p[i, j] - (one if j == label else zero)) / n
    return True


_SOURCES: dict[str, Callable[..., bool]] = {
    "sparse_softmax_gradient": _sparse_softmax_gradient,
}


def sparse_softmax_gradient(p: Array, labels: Array) -> Array | None:
    """``(p - onehot(labels)) / len(p)`` as a new array, or None if it cannot.

    ``p`` is ``(n, k)`` probabilities, float32 or float64, C-contiguous;
    ``labels`` ``(n,)`` integers. None when fused kernels are off, the arrays do
    not suit the kernel or a label is outside ``[0, k)``: the caller then uses NumPy.

    >>> grad = sparse_softmax_gradient(np.array([[0.5, 0.5]] * 2), np.array([0, 1]))
    >>> grad if grad is not None else np.array([[-0.25, 0.25], [0.25, -0.25]])
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    """
    kernels = compiled(_SOURCES)
    scalars = ZERO_ONE.get(p.dtype)
    if kernels is None or scalars is None or p.ndim != 2 or labels.ndim != 1:
        return None
    if labels.dtype.kind not in "iu" or len(labels) != len(p) or not len(p):
        return None
    if not p.flags.c_contiguous:
        return None
    grad = np.empty_like(p)
    zero, one = scalars
    n = p.dtype.type(len(p))  # NumPy casts the row count so, dividing by it
    if not kernels["sparse_softmax_gradient"](p, labels, grad, n, one, zero):
        return None
    return grad
