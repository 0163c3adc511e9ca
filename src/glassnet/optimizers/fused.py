"""Update rules in one pass, compiled by Numba when it is installed (glassnet/fused.py).

Why: an update rule written with NumPy, as the rules in sgd.py and adaptive.py are,
walks the weights, the gradients and the state once per operation: Adam makes
twelve passes, each a separate NumPy call. On a model with two million weights
those passes stream about 300 MB through memory per step (4 ms, 12% of the wide
benchmark's step), where one loop doing the twelve operations on each weight in
turn streams about 50 MB (0.9 ms); on small models the twelve calls' overhead is
the cost, and one call is again cheaper (benchmarks/README.md has the timings).
XLA (so JAX) and PyTorch's fused optimizers do the same.

The NumPy code in each rule's ``_update`` stays the reference, the one to read.
Each kernel below does the same operations in the same order, with the scalars in
the arrays' own precision (as NumPy casts a Python float it combines with an
array), so its results equal NumPy's bit for bit (tests/test_fused_updates.py
checks every rule, both ways). A rule's ``_update_fused`` asks :func:`run_fused`;
when that answers ``False`` (Numba missing, fused kernels turned off, arrays it
does not take) the optimizer runs ``_update``.

>>> import numpy as np
>>> w, g, v = np.ones(3), np.ones(3), np.zeros(3)
>>> ran = run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])
>>> w if ran else w - 0.5  # v = 0.9 * 0 - 0.5 * g; w = w + v
array([0.5, 0.5, 0.5])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from operator import call, is_
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.fused import KERNEL_DTYPES, common_dtype, compiled

__all__ = ["run_fused"]


# The kernels: each loop body is its rule's NumPy passes, in their order, for one
# weight. Arguments: the arrays (flat, same length), then the rule's scalars. Each
# array is read once into a local and written once: written as m[i] += ..., then
# read back, the loop ran 1.8x slower on two million weights (the compiler must
# reload m[i] in case the arrays overlap). The size check keeps a loop inside its
# arrays whatever it is given (run_fused checks arrays once, then trusts them); an
# `if`, not an `assert`, which `python -O` would drop.


def _sgd(w: Array, g: Array, rate: float) -> None:
    if w.size != g.size:
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        w[i] -= g[i] * rate  # w = w - learning_rate * g


def _sgd_momentum(w: Array, g: Array, v: Array, rate: float, momentum: float) -> None:
    if not (w.size == g.size == v.size):
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        step = g[i] * rate
        v_i = v[i] * momentum - step  # v = momentum * v - learning_rate * g
        v[i] = v_i
        w[i] += v_i  # w = w + v


def _sgd_nesterov(w: Array, g: Array, v: Array, rate: float, momentum: float) -> None:
    if not (w.size == g.size == v.size):
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        step = g[i] * rate
        v_i = v[i] * momentum - step
        v[i] = v_i
        w[i] += momentum * v_i - step  # w = w + momentum * v - learning_rate * g


def _adam(
    w: Array,
    g: Array,
    m: Array,
    v: Array,
    one_minus_beta_1: float,
    one_minus_beta_2: float,
    epsilon: float,
    rate: float,
) -> None:
    if not (w.size == g.size == m.size == v.size):
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        g_i, m_i, v_i = g[i], m[i], v[i]
        m_i += (g_i - m_i) * one_minus_beta_1  # m = m + (g - m) * (1 - beta_1)
        v_i += (g_i * g_i - v_i) * one_minus_beta_2  # v = v + (g * g - v) * (...)
        m[i], v[i] = m_i, v_i
        w[i] -= m_i / (np.sqrt(v_i) + epsilon) * rate  # w = w - lr_t * m / (...)


def _rmsprop(
    w: Array,
    g: Array,
    v: Array,
    rho: float,
    one_minus_rho: float,
    epsilon: float,
    rate: float,
) -> None:
    if not (w.size == g.size == v.size):
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        g_i = g[i]
        v_i = v[i] * rho + g_i * g_i * one_minus_rho  # v = rho * v + (1 - rho) * g * g
        v[i] = v_i
        w[i] -= g_i / np.sqrt(v_i + epsilon) * rate  # w = w - lr * g / sqrt(v + eps)


def _rmsprop_momentum(
    w: Array,
    g: Array,
    v: Array,
    m: Array,
    rho: float,
    one_minus_rho: float,
    epsilon: float,
    rate: float,
    momentum: float,
) -> None:
    if not (w.size == g.size == v.size == m.size):
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        g_i = g[i]
        v_i = v[i] * rho + g_i * g_i * one_minus_rho
        m_i = m[i] * momentum + g_i / np.sqrt(v_i + epsilon) * rate  # m*mom + step
        v[i], m[i] = v_i, m_i
        w[i] -= m_i  # w = w - m


def _adagrad(w: Array, g: Array, acc: Array, epsilon: float, rate: float) -> None:
    if not (w.size == g.size == acc.size):
        raise ValueError("the arrays differ in size")
    for i in range(w.size):
        g_i = g[i]
        acc_i = acc[i] + g_i * g_i  # acc = acc + g * g
        acc[i] = acc_i
        w[i] -= g_i / np.sqrt(acc_i + epsilon) * rate  # w = w - lr * g / sqrt(...)


_SOURCES: dict[str, Callable[..., None]] = {
    "sgd": _sgd,
    "sgd_momentum": _sgd_momentum,
    "sgd_nesterov": _sgd_nesterov,
    "adam": _adam,
    "rmsprop": _rmsprop,
    "rmsprop_momentum": _rmsprop_momentum,
    "adagrad": _adagrad,
}


def run_fused(name: str, arrays: Sequence[Array], scalars: Sequence[float]) -> bool:
    """Run kernel ``name`` on ``arrays`` (weights first) if possible; say whether it ran.

    The arrays must share one shape and one dtype, float32 or float64; with more
    than one axis they must be C-contiguous too (they are flattened to views). The
    scalars are cast to that dtype first, as NumPy casts a Python float it combines
    with an array. The checks are few on purpose: this runs at every step.

    >>> import numpy as np
    >>> w, g, acc = np.ones(2), np.full(2, 2.0), np.zeros(2)
    >>> ran = run_fused("adagrad", [w, g, acc], [0.0, 0.5])
    >>> w if ran else w - 0.5  # w -= 0.5 * g / |g|
    array([0.5, 0.5])
    """
    kernels = compiled(_SOURCES)
    if kernels is None:
        return False
    # Why a memo: the model's flat buffers are the same arrays at every step, and
    # checking them and casting the scalars again cost 1.6 us, four times the
    # kernel call on a small model. Weak references, so that it keeps no model alive.
    seen = _checked.get(name)
    if seen is not None and _same(seen.arrays, arrays):
        if seen.scalars != scalars:
            seen.scalars, seen.cast = list(scalars), [seen.dtype(v) for v in scalars]
        kernels[name](*arrays, *seen.cast)
        return True
    flat = _suitable(arrays)
    if flat is None:
        return False
    dtype = flat[0].dtype.type
    cast = [dtype(value) for value in scalars]
    if flat[0] is arrays[0]:  # one axis each (a flat buffer): remember them
        refs = [weakref.ref(array) for array in arrays]
        _checked[name] = _Checked(refs, dtype, list(scalars), cast)
    kernels[name](*flat, *cast)
    return True


class _Checked:
    """Arrays :func:`run_fused` checked (weakly held), their dtype's scalar type,
    and the last scalars with their casts to it."""

    def __init__(
        self,
        arrays: list[weakref.ref[Array]],
        dtype: Any,
        scalars: list[float],
        cast: list[Any],
    ) -> None:
        self.arrays, self.dtype, self.scalars, self.cast = arrays, dtype, scalars, cast


_checked: dict[str, _Checked] = {}  # kernel name -> the arrays it last ran on


def _same(refs: list[weakref.ref[Array]], arrays: Sequence[Array]) -> bool:
    """Whether ``arrays`` are the very arrays ``refs`` point to (C loops: 0.3 us)."""
    return len(refs) == len(arrays) and all(map(is_, map(call, refs), arrays))


def _suitable(arrays: Sequence[Array]) -> Sequence[Array] | None:
    """``arrays`` as the kernels take them (one axis each), or None if they cannot."""
    first = arrays[0]
    dtype, shape = first.dtype, first.shape
    if dtype not in KERNEL_DTYPES:
        return None
    for array in arrays:
        if array.dtype != dtype or array.shape != shape:
            return None
    if first.ndim != 1:  # a tensor from apply(): flattened, so it must be contiguous
        if common_dtype(arrays) is None:
            return None
        return [array.reshape(-1) for array in arrays]
    return arrays  # (a 1-D array Numba takes in any memory layout)
