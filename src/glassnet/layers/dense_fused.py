"""A Dense layer's bias and activation in fewer passes, compiled by Numba.

(The switch and the compilation: glassnet/fused.py.)

Why: with NumPy, ``z += b`` then ``y = maximum(z, 0)`` walk the layer's output
twice, and in backward ``dz = dy * (z > 0)`` then ``db = dz.sum(axis=0)`` walk it
three times (the mask is an array of its own), each a call of about a microsecond
before any arithmetic. On the small benchmark network (batch 32, two ReLU layers)
those calls were a fifth of a training step; one loop per direction makes them
about 1.3 us a layer (benchmarks/README.md). XLA fuses them the same way, into its
matrix products.

- ReLU: :func:`bias_relu` (``z += b`` and the rectifier) and :func:`relu_backward`
  (the mask and ``db``), one loop each.
- Sigmoid and tanh: :func:`squashing_backward`, ``dz = dy * y * (1 - y)`` (or
  ``dy * (1 - y * y)``) and ``db`` in one loop instead of four calls; and
  :func:`bias_sigmoid`, ``z += b`` with the negation in one loop, NumPy's ``exp``,
  then ``1 / (1 + e)`` in one loop: three calls instead of five. ``exp`` stays
  NumPy's (its own vector code, which a compiled ``exp`` does not match to the
  bit). On the tiny 2-2-1 sigmoid network these calls were a fifth of its step.

:class:`~glassnet.layers.Dense` asks these first and, when they answer None (Numba
missing, fused kernels off, arrays they do not take), runs its NumPy code, which
stays the reference: the same operations in the same order, so the results are
equal bit for bit (tests/test_fused_dense.py).

>>> import numpy as np
>>> z, b = np.array([[-1.0, 2.0]]), np.array([0.5, 0.5])
>>> y = bias_relu(z, b)
>>> (z, y) if y is not None else (z + b, np.maximum(z + b, 0))
(array([[-0.5,  2.5]]), array([[0. , 2.5]]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.fused import ZERO_ONE, compiled

__all__ = ["bias_relu", "bias_sigmoid", "relu_backward", "squashing_backward"]


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


def _bias_negate(z: Array, b: Array, t: Array) -> None:
    # z = z + b (kept: it is the layer's logits), and t = -z, sigmoid's first step
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z_ij = z[i, j] + b[j]
            z[i, j] = z_ij
            t[i, j] = -z_ij


def _one_over_one_plus(t: Array, one: float) -> None:
    # t = 1 / (1 + t) in place: sigmoid's last steps, given t = exp(-z)
    for i in range(t.shape[0]):
        for j in range(t.shape[1]):
            t[i, j] = one / (one + t[i, j])


def _sigmoid_backward(
    y: Array, grad_y: Array, grad_z: Array, grad_b: Array, one: float, zero: float
) -> None:
    # dz = dy * y * (1 - y), evaluated left to right as NumPy's expression is, and
    # db = 0 + dz[0] + dz[1] + ... row by row, the order of np.add.reduce(axis=0).
    for j in range(y.shape[1]):
        grad_b[j] = zero
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y_ij = y[i, j]
            d = grad_y[i, j] * y_ij * (one - y_ij)
            grad_z[i, j] = d
            grad_b[j] += d


def _tanh_backward(
    y: Array, grad_y: Array, grad_z: Array, grad_b: Array, one: float, zero: float
) -> None:
    # dz = dy * (1 - y * y), and db summed as in _sigmoid_backward
    for j in range(y.shape[1]):
        grad_b[j] = zero
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y_ij = y[i, j]
            d = grad_y[i, j] * (one - y_ij * y_ij)
            grad_z[i, j] = d
            grad_b[j] += d


_SOURCES: dict[str, Callable[..., None]] = {
    "bias_relu": _bias_relu,
    "relu_backward": _relu_backward,
    "bias_negate": _bias_negate,
    "one_over_one_plus": _one_over_one_plus,
    "sigmoid_backward": _sigmoid_backward,
    "tanh_backward": _tanh_backward,
}


def _as_rows(a: Array) -> Array:
    """``a`` with every axis but the last folded into rows (a view: ``a`` is
    C-contiguous, or already 2-D)."""
    return a if a.ndim == 2 else a.reshape(-1, a.shape[-1])


def _forward_kernels(z: Array, b: Array) -> tuple[Any, Any]:
    """``(kernels, (zero, one))`` when ``z`` (``x @ W``) and ``b`` suit the forward
    loops (the same float dtype, ``z`` C-contiguous with two axes or more, ``b``
    one value per unit), else ``(None, None)``."""
    kernels = compiled(_SOURCES)
    scalars = ZERO_ONE.get(z.dtype)
    if kernels is None or scalars is None or b.dtype != z.dtype or z.ndim < 2:
        return None, None
    if b.shape != z.shape[-1:] or not z.flags.c_contiguous:
        return None, None
    return kernels, scalars


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
    kernels, scalars = _forward_kernels(z, b)
    if kernels is None:
        return None
    y = np.empty_like(z)
    if z.ndim == 2:
        kernels["bias_relu"](z, b, y, scalars[0])
    else:  # every position along the middle axes is a row (views: z is contiguous)
        kernels["bias_relu"](_as_rows(z), b, _as_rows(y), scalars[0])
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
    return _backward_kernel("relu_backward", z, grad_y, grad_b)


def _backward_kernel(
    name: str, kept: Array, grad_y: Array, grad_b: Array
) -> Array | None:
    """Run the ``(kept, dy, dz, db, one, zero)`` kernel ``name``; return the new
    ``dz``, or None when it cannot (``kept`` is what the forward pass kept: ``z``
    for ReLU, ``y`` for sigmoid and tanh)."""
    kernels = compiled(_SOURCES)
    scalars = ZERO_ONE.get(kept.dtype)
    if kernels is None or scalars is None or kept.ndim < 2:
        return None
    if grad_y.shape != kept.shape or grad_b.shape != kept.shape[-1:]:
        return None
    if grad_y.dtype != kept.dtype or grad_b.dtype != kept.dtype:
        return None
    if not kept.flags.c_contiguous:
        return None
    kernel = kernels[name]
    grad_z = np.empty_like(kept)
    zero, one = scalars
    if kept.ndim == 2:  # Numba takes grad_y and grad_b in any memory layout
        kernel(kept, grad_y, grad_z, grad_b, one, zero)
    else:  # (a grad_y that is not contiguous cannot be folded into rows as a view)
        rows = (-1, kept.shape[-1])
        kernel(
            _as_rows(kept), grad_y.reshape(rows), _as_rows(grad_z), grad_b, one, zero
        )
    return grad_z


#: The fewest values :func:`bias_sigmoid` takes: on fewer (a 2-2-1 network, one
#: sample a batch) NumPy's five calls cost 0.25 us less than three calls plus
#: the checks, and on 32 x 128 values 2 us more (benchmarks/README.md).
_SIGMOID_FUSED_FROM = 16


def bias_sigmoid(z: Array, b: Array) -> Array | None:
    """Add ``b`` to ``z`` in place and return ``1 / (1 + exp(-z))``, or None if it cannot.

    The same arrays as :func:`bias_relu` takes, with at least 16 values (on
    fewer, five NumPy calls are quicker). Three calls instead of five: one
    loop adds the bias and negates, NumPy's ``exp`` runs in place, one loop takes
    ``1 / (1 + e)``. ``exp(-z)`` overflows to inf (with NumPy's warning) where
    ``z`` is below about -88.7 in float32, and the result there is 0, as in
    :class:`~glassnet.activations.Sigmoid`.

    >>> import numpy as np
    >>> z = np.array([[0.0, 1.0]])
    >>> y = bias_sigmoid(z, np.array([0.0, -1.0]))
    >>> y if y is not None else 1 / (1 + np.exp(-(z + [0.0, -1.0])))
    array([[0.5, 0.5]])
    """
    if z.size < _SIGMOID_FUSED_FROM:
        return None
    kernels, scalars = _forward_kernels(z, b)
    if kernels is None:
        return None
    y = np.empty_like(z)
    z_rows, y_rows = (z, y) if z.ndim == 2 else (_as_rows(z), _as_rows(y))
    kernels["bias_negate"](z_rows, b, y_rows)
    np.exp(y, out=y)
    kernels["one_over_one_plus"](y_rows, scalars[1])
    return y


def squashing_backward(
    kind: str, y: Array, grad_y: Array, grad_b: Array
) -> Array | None:
    """``dz`` of ``y = sigmoid(z)`` or ``tanh(z)``, with ``grad_b[...] = dz`` summed.

    ``kind`` is ``"sigmoid"`` (``dz = dy * y * (1 - y)``) or ``"tanh"``
    (``dz = dy * (1 - y * y)``), both written through the output ``y``. Returns
    ``dz``, or None (``grad_b`` untouched) when fused kernels are off or the
    arrays do not suit them, as :func:`relu_backward`.

    >>> import numpy as np
    >>> y, dy, db = np.array([[0.5, 0.25]]), np.ones((1, 2)), np.zeros(2)
    >>> dz = squashing_backward("sigmoid", y, dy, db)
    >>> (dz, db) if dz is not None else (dy * y * (1 - y), (dy * y * (1 - y))[0])
    (array([[0.25  , 0.1875]]), array([0.25  , 0.1875]))
    """
    return _backward_kernel(f"{kind}_backward", y, grad_y, grad_b)
