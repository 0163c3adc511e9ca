"""A Dense layer's ReLU and bias in one pass, compiled by Numba (glassnet/fused.py).

Why: with NumPy, ``z += b`` then ``y = maximum(z, 0)`` walk the layer's output
twice, and in backward ``dz = dy * (z > 0)`` then ``db = dz.sum(axis=0)`` walk it
three times (the mask is an array of its own), each a call of about a microsecond
before any arithmetic. On the small benchmark network (batch 32, two ReLU layers)
those calls were a fifth of a training step; one loop per direction makes them
about 1.3 us a layer (benchmarks/README.md). XLA fuses them the same way, into its
matrix products.

:class:`~glassnet.layers.Dense` asks :func:`bias_relu` and :func:`relu_backward`
first and, when they answer None (Numba missing, fused kernels off, arrays they do
not take), runs its NumPy code, which stays the reference: the same operations in
the same order, so the results are equal bit for bit
(tests/test_fused_dense.py).

>>> import numpy as np
>>> z, b = np.array([[-1.0, 2.0]]), np.array([0.5, 0.5])
>>> y = bias_relu(z, b)
>>> (z, y) if y is not None else (z + b, np.maximum(z + b, 0))
(array([[-0.5,  2.5]]), array([[0. , 2.5]]))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet._typing import Array
from glassnet.fused import ZERO_ONE, compiled

__all__ = ["bias_relu", "relu_backward"]


def _bias_relu(z: Array, b: Array, y: Array, zero: float) -> None:
    # z = z + b, then y = maximum(z, 0) as NumPy computes it: z itself when z > 0
    # or z is NaN (which it propagates), else +0 (also for z = -0).
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z_ij = z[i, j] + b[j]
            z[i, j] = z_ij
            y[i, j] = z_ij if (z_ij > zero or z_ij != z_ij) else zero


def _relu_backward(
    z: Array, grad_y: Array, grad_z: Array, grad_b: Array, one: float, zero: float
) -> None:
    # dz = dy * [z > 0] (a negative dy times 0 is -0, as in NumPy), and
    # db = 0 + dz[0] + dz[1] + ... row by row, the order of np.add.reduce(axis=0).
    for j in range(z.shape[1]):
        grad_b[j] = zero
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            d = grad_y[i, j] * (one if z[i, j] > zero else zero)
            grad_z[i, j] = d
            grad_b[j] += d


_SOURCES: dict[str, Callable[..., None]] = {
    "bias_relu": _bias_relu,
    "relu_backward": _relu_backward,
}


def bias_relu(z: Array, b: Array) -> Array | None:
    """Add ``b`` to ``z`` in place and return ``maximum(z, 0)``, or None if it cannot.

    ``z`` is ``x @ W`` (two axes or more, C-contiguous), ``b`` the bias, both
    float32 or both float64. None (with ``z`` untouched) when fused kernels are off
    or the arrays do not suit them; the caller then adds and rectifies with NumPy.
    The checks are few and cheap on purpose: this runs twice per layer per step.

    >>> import numpy as np
    >>> z = np.array([[1.0, -3.0]])
    >>> y = bias_relu(z, np.array([-2.0, 4.0]))
    >>> y if y is not None else np.maximum(z + [-2.0, 4.0], 0)
    array([[0., 1.]])
    """
    kernels = compiled(_SOURCES)
    scalars = ZERO_ONE.get(z.dtype)
    if kernels is None or scalars is None or b.dtype != z.dtype or z.ndim < 2:
        return None
    if b.shape != z.shape[-1:] or not z.flags.c_contiguous:
        return None
    y = np.empty_like(z)
    if z.ndim == 2:
        kernels["bias_relu"](z, b, y, scalars[0])
    else:  # every position along the middle axes is a row (views: z is contiguous)
        rows = (-1, z.shape[-1])
        kernels["bias_relu"](z.reshape(rows), b, y.reshape(rows), scalars[0])
    return y


def relu_backward(z: Array, grad_y: Array, grad_b: Array) -> Array | None:
    """``dz = grad_y * (z > 0)``, with ``grad_b[...] = dz`` summed over all rows.

    Returns ``dz``, or None (``grad_b`` untouched) when fused kernels are off or
    the arrays do not suit them (shapes or dtypes that differ, ``z`` not
    C-contiguous); the caller then computes both with NumPy.

    >>> import numpy as np
    >>> z, dy, db = np.array([[1.0, -1.0], [2.0, 3.0]]), np.ones((2, 2)), np.zeros(2)
    >>> dz = relu_backward(z, dy, db)
    >>> (dz, db) if dz is not None else (dy * (z > 0), (dy * (z > 0)).sum(axis=0))
    (array([[1., 0.],
           [1., 1.]]), array([2., 1.]))
    """
    kernels = compiled(_SOURCES)
    scalars = ZERO_ONE.get(z.dtype)
    if kernels is None or scalars is None or z.ndim < 2 or grad_y.shape != z.shape:
        return None
    if grad_y.dtype != z.dtype or grad_b.dtype != z.dtype:
        return None
    if grad_b.shape != z.shape[-1:] or not z.flags.c_contiguous:
        return None
    grad_z = np.empty_like(z)
    zero, one = scalars
    if z.ndim == 2:  # Numba takes grad_y and grad_b in any memory layout
        kernels["relu_backward"](z, grad_y, grad_z, grad_b, one, zero)
    else:
        rows = (-1, z.shape[-1])
        kernels["relu_backward"](
            z.reshape(rows),
            grad_y.reshape(rows),
            grad_z.reshape(rows),
            grad_b,
            one,
            zero,
        )
    return grad_z
