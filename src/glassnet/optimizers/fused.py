"""One-pass update rules, compiled by Numba when it is installed (``glassnet[fast]``).

Why: an update rule written with NumPy, as the rules in sgd.py and adaptive.py are,
walks the weights, the gradients and the state once per operation: Adam makes
twelve passes, each a separate NumPy call. On a model with two million weights
those passes stream about 300 MB through memory per step (4 ms, 12% of the wide
benchmark's step), where one loop doing the twelve operations on each weight in
turn streams about 50 MB (0.9 ms); on small models the twelve calls' overhead is
the cost, and one call is again cheaper (benchmarks/README.md has the timings).
XLA (so JAX) and PyTorch's fused optimizers do the same.

The NumPy code in each rule's ``_update`` stays the reference, the one to read.
Each kernel below does the same operations in the same order, in the arrays' own
precision (float32 scalars for float32 weights, as NumPy casts them), without
fast-math or fused multiply-adds, so its results equal NumPy's bit for bit
(tests/test_fused_updates.py checks every rule, both ways). A rule asks
:func:`run_fused` first and runs its NumPy passes when that answers ``False``:
Numba missing, fused updates turned off (:func:`use_fused_updates`, or the
environment variable ``GLASSNET_FUSED=0``), or arrays it does not handle (not
C-contiguous, mixed dtypes, or neither float32 nor float64).

The first update in a process imports Numba (about 0.3 s); the first of each
kernel and dtype compiles it (about 0.3 s more), once per machine: Numba caches the
machine code next to this file (or in its user cache directory).

>>> import numpy as np
>>> from glassnet.optimizers import SGD
>>> w = np.ones(4, np.float32)
>>> SGD(learning_rate=0.5, momentum=0.9).apply([("w", w, np.ones(4, np.float32))])
>>> w  # the same, bit for bit, with or without Numba
array([0.5, 0.5, 0.5, 0.5], dtype=float32)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.errors import GlassnetTypeError

__all__ = ["run_fused", "use_fused_updates"]

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# The kernels: each loop body is its rule's NumPy passes, in their order, for one
# weight. Arguments: the arrays (flat, same length), then the rule's scalars. Each
# array is read once into a local and written once: written as m[i] += ..., then
# read back, the loop ran 1.8x slower on two million weights (the compiler must
# reload m[i] in case the arrays overlap).


def _sgd_momentum(w: Array, g: Array, v: Array, rate: float, momentum: float) -> None:
    for i in range(w.size):
        step = g[i] * rate
        v_i = v[i] * momentum - step  # v = momentum * v - learning_rate * g
        v[i] = v_i
        w[i] += v_i  # w = w + v


def _sgd_nesterov(w: Array, g: Array, v: Array, rate: float, momentum: float) -> None:
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
    for i in range(w.size):
        g_i = g[i]
        v_i = v[i] * rho + g_i * g_i * one_minus_rho
        m_i = m[i] * momentum + g_i / np.sqrt(v_i + epsilon) * rate  # m*mom + step
        v[i], m[i] = v_i, m_i
        w[i] -= m_i  # w = w - m


def _adagrad(w: Array, g: Array, acc: Array, epsilon: float, rate: float) -> None:
    for i in range(w.size):
        g_i = g[i]
        acc_i = acc[i] + g_i * g_i  # acc = acc + g * g
        acc[i] = acc_i
        w[i] -= g_i / np.sqrt(acc_i + epsilon) * rate  # w = w - lr * g / sqrt(...)


_SOURCES: dict[str, Callable[..., None]] = {
    "sgd_momentum": _sgd_momentum,
    "sgd_nesterov": _sgd_nesterov,
    "adam": _adam,
    "rmsprop": _rmsprop,
    "rmsprop_momentum": _rmsprop_momentum,
    "adagrad": _adagrad,
}

_enabled = os.environ.get("GLASSNET_FUSED", "1").strip() != "0"
_compiled: dict[str, Any] | None = None  # name -> Numba dispatcher, made on first use
_numba_missing = False


def use_fused_updates(enabled: bool | None = None) -> bool:
    """Turn the compiled one-pass updates on or off; return whether they are in use.

    ``enabled=None`` only asks. ``True`` is an answer only when Numba is installed
    (``pip install glassnet[fast]``); the updates are otherwise the NumPy ones,
    with the same results.

    >>> was = use_fused_updates()
    >>> use_fused_updates(False)
    False
    >>> use_fused_updates(was) == was
    True
    """
    global _enabled
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise GlassnetTypeError(
                "Argument `enabled` must be True, False or None. "
                f"Received: enabled={enabled!r}"
            )
        _enabled = enabled
    return _enabled and _kernels() is not None


def run_fused(name: str, arrays: Sequence[Array], scalars: Sequence[float]) -> bool:
    """Run kernel ``name`` on ``arrays`` (weights first) if possible; say whether it ran.

    The arrays must share one shape, one dtype (float32 or float64) and be
    C-contiguous; the scalars are cast to that dtype first, as NumPy casts a Python
    float it combines with an array.

    >>> import numpy as np
    >>> w, g, v = np.ones(3), np.ones(3), np.zeros(3)
    >>> ran = run_fused("sgd_momentum", [w, g, v], [0.5, 0.9])
    >>> ran == use_fused_updates()  # it runs whenever fused updates are in use
    True
    >>> (w, v) if ran else (w - 0.5, v - 0.5)  # v = 0.9 * 0 - 0.5 * g; w = w + v
    (array([0.5, 0.5, 0.5]), array([-0.5, -0.5, -0.5]))
    """
    if not _enabled:
        return False
    kernels = _kernels()
    if kernels is None:
        return False
    first = arrays[0]
    dtype, shape = first.dtype, first.shape
    if dtype not in _DTYPES:
        return False
    for array in arrays:
        if array.dtype != dtype or array.shape != shape:
            return False
        if not array.flags.c_contiguous:
            return False
    cast = dtype.type
    kernels[name](
        *[array.reshape(-1) for array in arrays], *[cast(value) for value in scalars]
    )
    return True


def _kernels() -> dict[str, Any] | None:
    """The compiled kernels (compiled lazily, per dtype), or None without Numba."""
    global _compiled, _numba_missing
    if _compiled is not None or _numba_missing:
        return _compiled
    try:
        import numba
    except ImportError:
        _numba_missing = True
        return None
    # error_model="numpy": a division by zero gives inf as in NumPy instead of
    # raising, which also lets the loops be vectorized. No fastmath: IEEE results.
    compile_ = numba.njit(error_model="numpy", nogil=True, cache=True)
    _compiled = {name: compile_(source) for name, source in _SOURCES.items()}
    return _compiled
